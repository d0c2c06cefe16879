#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_load
short_description: Load images from an archive with the Berth engine
version_added: 0.1.0
description:
  - Loads the images of a C(docker save) (or OCI layout) archive on the managed host, like
    M(community.docker.docker_image_load).
  - Changed only when the archive holds an image or a name the host did not have.
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
  path:
    description: The archive on the managed host.
    type: path
    required: true
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image_load
"""

EXAMPLES = r"""
- name: Load images shipped as an archive
  berth.engine.image_load:
    path: /var/tmp/app-images.tar
"""

RETURN = r"""
image_names:
  description: Names of the images in the archive.
  returned: success
  type: list
  elements: str
images:
  description: Facts of the loaded images in the shape of C(docker image inspect).
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
    run_module("load")


if __name__ == "__main__":
    main()
