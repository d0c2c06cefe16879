#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: prune
short_description: Remove unused containers, images, networks and volumes on a Berth host
version_added: 0.1.0
description:
  - Removes stopped containers, dangling (or unused) images, unused networks and unused volumes, like
    M(community.docker.docker_prune).
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be removed.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  containers:
    description: Remove stopped containers.
    type: bool
    default: false
  containers_filters:
    description: Filters on containers, as C(docker container prune --filter) (V(label), V(until)).
    type: dict
  images:
    description: Remove dangling images (all unused ones with O(images_filters={dangling=false})).
    type: bool
    default: false
  images_filters:
    description: Filters on images (V(dangling), V(label), V(until)).
    type: dict
  networks:
    description: Remove networks no container uses.
    type: bool
    default: false
  networks_filters:
    description: Filters on networks (V(label), V(until)).
    type: dict
  volumes:
    description: Remove volumes no container uses.
    type: bool
    default: false
  volumes_filters:
    description: Filters on volumes (V(label)).
    type: dict
  builder_cache:
    description: Remove the build cache.
    type: bool
    default: false
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_prune
"""

EXAMPLES = r"""
- name: Remove stopped containers and dangling images
  berth.engine.prune:
    containers: true
    images: true
"""

RETURN = r"""
containers:
  description: IDs of the containers removed.
  returned: O(containers=true)
  type: list
  elements: str
containers_space_reclaimed:
  description: Bytes freed by removing containers.
  returned: O(containers=true)
  type: int
images:
  description: Images removed.
  returned: O(images=true)
  type: list
  elements: dict
images_space_reclaimed:
  description: Bytes freed by removing images.
  returned: O(images=true)
  type: int
networks:
  description: Names of the networks removed.
  returned: O(networks=true)
  type: list
  elements: str
volumes:
  description: Names of the volumes removed.
  returned: O(volumes=true)
  type: list
  elements: str
volumes_space_reclaimed:
  description: Bytes freed by removing volumes.
  returned: O(volumes=true)
  type: int
builder_cache_space_reclaimed:
  description: Bytes freed by removing the build cache.
  returned: O(builder_cache=true)
  type: int
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_prune


def main():
    run_prune()


if __name__ == "__main__":
    main()
