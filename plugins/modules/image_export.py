#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_export
short_description: Export images to an archive with the Berth engine
version_added: 0.1.0
description:
  - Writes images to a C(docker save) archive on the managed host, like M(community.docker.docker_image_export).
  - Changed only when the archive does not already hold exactly these images.
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  names:
    description: Images to export; a name without tag takes O(tag).
    type: list
    elements: str
    required: true
    aliases: [name]
  tag:
    description: Tag of names given without one.
    type: str
    default: latest
  path:
    description: The archive to write on the managed host.
    type: path
    required: true
  force:
    description: Write the archive even when it already holds these images.
    type: bool
    default: false
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_export
"""

EXAMPLES = r"""
- name: Export two images
  berth.engine.image_export:
    names:
      - app:2.1
      - docker.io/library/busybox:1.36
    path: /var/tmp/images.tar
"""

RETURN = r"""
images:
  description: Facts of the exported images in the shape of C(docker image inspect).
  returned: success
  type: list
  elements: dict
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._image import run_module


def main():
    run_module("export")


if __name__ == "__main__":
    main()
