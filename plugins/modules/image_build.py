#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_build
short_description: Build an image from a Dockerfile with the Berth engine
version_added: 0.1.0
description:
  - Builds an image from a build context on the managed host, like M(community.docker.docker_image_build).
  - With O(rebuild=never) an image already present under the name is kept.
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: The diff shows whether the image is present; a rebuild is listed in RV(actions).
  idempotent:
    support: partial
    details: With O(rebuild=always) the image is built every run.
options:
  name:
    description: Name of the image to build; a tag in it wins over O(tag).
    type: str
    required: true
  tag:
    description: Tag of the image to build.
    type: str
    default: latest
  rebuild:
    description: V(never) keeps an existing image of that name, V(always) builds again.
    type: str
    choices: [never, always]
    default: never
  path:
    description: Build context directory on the managed host.
    type: path
    required: true
  dockerfile:
    description: Dockerfile, relative to O(path) (default C(Dockerfile)).
    type: str
  args:
    description: Build arguments (C(ARG)).
    type: dict
  target:
    description: Stage to build.
    type: str
  nocache:
    description: Do not use the build cache.
    type: bool
    default: false
  pull:
    description: Pull the base images even when present.
    type: bool
    default: false
  labels:
    description: Labels to add to the image.
    type: dict
  network:
    description: Network mode of C(RUN) steps.
    type: str
  etc_hosts:
    description: Extra C(/etc/hosts) entries of C(RUN) steps.
    type: dict
  shm_size:
    description: Size of C(/dev/shm) in C(RUN) steps.
    type: str
  cache_from:
    description: Images to use as cache sources.
    type: list
    elements: str
  platform:
    description: Platform of the image.
    type: str
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_build
"""

EXAMPLES = r"""
- name: Build the application image
  berth.engine.image_build:
    name: app
    tag: "2.1"
    path: /srv/app
    args:
      VERSION: "2.1"
"""

RETURN = r"""
image:
  description: Facts of the image in the shape of C(docker image inspect).
  returned: success
  type: dict
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._image import run_module


def main():
    run_module("build")


if __name__ == "__main__":
    main()
