#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_push
short_description: Push an image with the Berth engine
version_added: 0.1.0
description:
  - Pushes an image on the host to its registry, like M(community.docker.docker_image_push).
  - Log in first with M(berth.engine.login) when the registry needs credentials.
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
    details: Blobs the registry has are not sent again; the push reports changed only when the registry lacked the manifest.
options:
  name:
    description: Image reference, including the registry; a tag in it wins over O(tag).
    type: str
    required: true
  tag:
    description: Tag to push.
    type: str
    default: latest
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_push
"""

EXAMPLES = r"""
- name: Push an image
  berth.engine.image_push:
    name: registry.example.com/app
    tag: "2.1"
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
    run_module("push")


if __name__ == "__main__":
    main()
