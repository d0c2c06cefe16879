#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_info
short_description: Facts of images on a Berth host
version_added: 0.1.0
description:
  - Returns the facts of the named images, or of every image, like M(community.docker.docker_image_info).
  - Names the host does not have are left out of the result.
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
  name:
    description: Image references or IDs. When not set, every image is returned.
    type: list
    elements: str
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_info
"""

EXAMPLES = r"""
- name: Is busybox there?
  berth.engine.image_info:
    name: [docker.io/library/busybox:1.36]
  register: result

- name: Pull it when not
  berth.engine.image_pull:
    name: docker.io/library/busybox:1.36
  when: result.images | length == 0
"""

RETURN = r"""
images:
  description: Facts of the images in the shape of C(docker image inspect).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_image_info


def main():
    run_image_info()


if __name__ == "__main__":
    main()
