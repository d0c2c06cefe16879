#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_info
short_description: Facts of a Berth host and lists of its objects
version_added: 0.1.0
description:
  - Returns engine-wide facts (versions, storage, runtime, cgroups) like C(docker info), and on request the lists
    of containers, images, networks and volumes, like M(community.docker.docker_host_info).
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: N/A
  idempotent:
    support: full
options:
  containers:
    description: List the running containers.
    type: bool
    default: false
  containers_all:
    description: With O(containers=true), list stopped containers too.
    type: bool
    default: false
  images:
    description: List the images.
    type: bool
    default: false
  networks:
    description: List the networks.
    type: bool
    default: false
  volumes:
    description: List the volumes.
    type: bool
    default: false
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_host_info
"""

EXAMPLES = r"""
- name: Engine facts and containers
  berth.engine.host_info:
    containers: true
    containers_all: true
  register: result
"""

RETURN = r"""
host_info:
  description: Engine-wide facts, with the field names of C(docker info).
  returned: always
  type: dict
containers:
  description: Short facts of the containers.
  returned: when O(containers=true)
  type: list
  elements: dict
images:
  description: Short facts of the images.
  returned: when O(images=true)
  type: list
  elements: dict
networks:
  description: Short facts of the networks.
  returned: when O(networks=true)
  type: list
  elements: dict
volumes:
  description: Short facts of the volumes.
  returned: when O(volumes=true)
  type: list
  elements: dict
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_host_info


def main():
    run_host_info()


if __name__ == "__main__":
    main()
