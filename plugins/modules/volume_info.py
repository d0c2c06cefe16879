#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: Facts of a volume on a Berth host
version_added: 0.1.0
description:
  - Returns whether a volume exists and its facts, like M(community.docker.docker_volume_info).
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
    description: Name or ID of the volume.
    type: str
    required: true
    aliases: [volume_name]
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_volume_info
  - module: berth.engine.volume
"""

EXAMPLES = r"""
- name: Read the facts of the volume
  berth.engine.volume_info:
    name: app
  register: result

- name: Act on them
  ansible.builtin.debug:
    msg: "{{ result.volume }}"
  when: result.exists
"""

RETURN = r"""
exists:
  description: Whether the volume exists.
  returned: always
  type: bool
volume:
  description: Facts in the shape of C(docker volume inspect); empty when it does not exist.
  returned: always
  type: dict
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_info


def main():
    run_info("volume")


if __name__ == "__main__":
    main()
