#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_tag
short_description: Tag an image with the Berth engine
version_added: 0.1.0
description:
  - Gives an image on the host more names, like M(community.docker.docker_image_tag).
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
    description: The image to tag (a reference or an image ID); a tag in it wins over O(tag).
    type: str
    required: true
  tag:
    description: Tag of the image to tag.
    type: str
    default: latest
  repository:
    description: New names, each C(name[:tag]) (V(latest) when no tag).
    type: list
    elements: str
    required: true
  existing_tags:
    description: V(keep) leaves a name that points at another image alone, V(overwrite) moves it.
    type: str
    choices: [keep, overwrite]
    default: keep
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_tag
"""

EXAMPLES = r"""
- name: Tag an image for a private registry
  berth.engine.image_tag:
    name: docker.io/library/busybox:1.36
    repository:
      - registry.example.com/tools/busybox:1.36
"""

RETURN = r"""
image:
  description: Facts of the image in the shape of C(docker image inspect).
  returned: success
  type: dict
tagged_images:
  description: The names that were (or would be) added or moved.
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
    run_module("tag")


if __name__ == "__main__":
    main()
