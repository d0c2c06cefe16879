#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: login
short_description: Log the Berth engine in to (or out of) a registry
version_added: 0.1.0
description:
  - Stores registry credentials for the engine (in C(<root>/auth.json), mode 0600, Docker's C(auths) format),
    like M(community.docker.docker_login).
  - The credentials are checked against the registry before they are stored.
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff never holds the password.
  idempotent:
    support: full
options:
  registry_url:
    description: The registry (V(registry.example.com:5000)).
    type: str
    default: https://index.docker.io/v1/
    aliases: [registry, url]
  username:
    description: User name. Required with O(state=present).
    type: str
  password:
    description: Password or token. Required with O(state=present). Never logged or shown.
    type: str
  reauthorize:
    description: Log in again even when credentials for the registry are stored.
    type: bool
    default: false
    aliases: [reauth]
  state:
    description: V(present) logs in, V(absent) logs out.
    type: str
    choices: [present, absent]
    default: present
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_login
"""

EXAMPLES = r"""
- name: Log in to a private registry
  berth.engine.login:
    registry_url: registry.example.com
    username: deploy
    password: "{{ vault_registry_password }}"

- name: Log out
  berth.engine.login:
    registry_url: registry.example.com
    state: absent
"""

RETURN = r"""
login_result:
  description: The registry and user name (never the password).
  returned: success
  type: dict
  sample:
    registry: registry.example.com
    username: deploy
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_login


def main():
    run_login()


if __name__ == "__main__":
    main()
