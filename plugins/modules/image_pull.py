#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_pull
short_description: Pull an image with the Berth engine
version_added: 0.1.0
description:
  - Pulls an image from its registry, like M(community.docker.docker_image_pull).
  - Changed only when the image behind the reference is new on the host (a new digest).
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the registry is still asked for the digest, nothing is downloaded.
  diff_mode:
    support: full
  idempotent:
    support: partial
    details: With O(pull=always), a new digest behind the tag is pulled and reports a change.
options:
  name:
    description: Image reference; a tag or digest in it wins over O(tag).
    type: str
    required: true
  tag:
    description: Tag to pull.
    type: str
    default: latest
  platform:
    description: Platform to pull from a multi-platform index (default the host's), like V(linux/amd64).
    type: str
  pull:
    description: V(always) asks the registry every time; V(not_present) only when the host lacks the image.
    type: str
    choices: [always, not_present]
    default: always
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_pull
"""

EXAMPLES = r"""
- name: Pull busybox
  berth.engine.image_pull:
    name: docker.io/library/busybox
    tag: "1.36"
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
    run_module("pull")


if __name__ == "__main__":
    main()
