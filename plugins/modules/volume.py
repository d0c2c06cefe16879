#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Manage volumes with the Berth engine
version_added: 0.1.0
description:
  - Creates and removes named volumes of the C(local) driver, like M(community.docker.docker_volume).
  - Removal is refused while a container uses the volume.
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
  volume_name:
    description: Name of the volume.
    type: str
    required: true
    aliases: [name]
  state:
    description: V(present) creates the volume, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  driver:
    description: Volume driver; Berth has V(local).
    type: str
    default: local
  driver_options:
    description: Options of the local driver, as C(docker volume create -o) (V(type), V(o), V(device)).
    type: dict
  labels:
    description: Volume labels.
    type: dict
  recreate:
    description:
      - V(never) keeps an existing volume whatever its options, V(options-changed) recreates it when
        O(driver), O(driver_options) or O(labels) differ, V(always) recreates it every run.
    type: str
    choices: [always, never, options-changed]
    default: never
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_volume
  - module: berth.engine.volume_info
"""

EXAMPLES = r"""
- name: A volume for the database
  berth.engine.volume:
    name: pgdata
    labels:
      app: db
"""

RETURN = r"""
volume:
  description: Facts of the volume in the shape of C(docker volume inspect); empty when absent.
  returned: success
  type: dict
  sample:
    Name: pgdata
    Driver: local
    Mountpoint: /var/lib/berth/volumes/pgdata/_data
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_volume


def main():
    run_volume()


if __name__ == "__main__":
    main()
