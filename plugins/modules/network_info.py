#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: Facts of a network on a Berth host
version_added: 0.1.0
description:
  - Returns whether a network exists and its facts, like M(community.docker.docker_network_info).
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
    description: Name or ID of the network.
    type: str
    required: true
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_network_info
  - module: berth.engine.network
"""

EXAMPLES = r"""
- name: Read the facts of the network
  berth.engine.network_info:
    name: app
  register: result

- name: Act on them
  ansible.builtin.debug:
    msg: "{{ result.network }}"
  when: result.exists
"""

RETURN = r"""
exists:
  description: Whether the network exists.
  returned: always
  type: bool
network:
  description: Facts in the shape of C(docker network inspect); empty when it does not exist.
  returned: always
  type: dict
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_info


def main():
    run_info("network")


if __name__ == "__main__":
    main()
