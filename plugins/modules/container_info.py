#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_info
short_description: Facts of a container on a Berth host
version_added: 0.1.0
description:
  - Returns whether a container exists and its facts, like M(community.docker.docker_container_info).
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
    description: Name or ID of the container.
    type: str
    required: true
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_container_info
  - module: berth.engine.container
"""

EXAMPLES = r"""
- name: Read the facts of the container
  berth.engine.container_info:
    name: app
  register: result

- name: Act on them
  ansible.builtin.debug:
    msg: "{{ result.container }}"
  when: result.exists
"""

RETURN = r"""
exists:
  description: Whether the container exists.
  returned: always
  type: bool
container:
  description: Facts in the shape of C(docker inspect); empty when it does not exist.
  returned: always
  type: dict
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_info


def main():
    run_info("container")


if __name__ == "__main__":
    main()
