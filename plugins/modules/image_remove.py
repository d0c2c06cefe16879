#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_remove
short_description: Remove an image with the Berth engine
version_added: 0.1.0
description:
  - Removes a name of an image, and the image when no name is left, like M(community.docker.docker_image_remove).
  - Refused while a container uses the image, unless O(force=true).
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  name:
    description: Image reference or ID; a tag in it wins over O(tag).
    type: str
    required: true
  tag:
    description: Tag to remove.
    type: str
    default: latest
  force:
    description: Remove the image even when containers use it or it has other names.
    type: bool
    default: false
  prune:
    description: Also remove untagged parent images.
    type: bool
    default: true
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_remove
"""

EXAMPLES = r"""
- name: Remove an image
  berth.engine.image_remove:
    name: registry.example.com/app:2.0
"""

RETURN = r"""
image:
  description: Facts of the image before removal; empty when it was absent.
  returned: success
  type: dict
deleted:
  description: IDs of the images removed.
  returned: success
  type: list
  elements: str
untagged:
  description: Names removed.
  returned: success
  type: list
  elements: str
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._image import run_module


def main():
    run_module("remove")


if __name__ == "__main__":
    main()
