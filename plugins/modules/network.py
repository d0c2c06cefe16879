#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Manage bridge networks with the Berth engine
version_added: 0.1.0
description:
  - Creates, changes and removes user-defined bridge networks, like M(community.docker.docker_network).
  - Containers on a user-defined network reach each other by name and alias.
  - A change of driver, IPAM, O(internal), O(labels) or O(driver_options) recreates the network.
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
    description: Name of the network.
    type: str
    required: true
    aliases: [network_name]
  state:
    description: V(present) creates or updates the network, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  driver:
    description: Network driver; Berth has V(bridge).
    type: str
    default: bridge
  driver_options:
    description: Driver options (V(com.docker.network.bridge.name), V(com.docker.network.driver.mtu)).
    type: dict
  ipam_driver:
    description: IPAM driver; Berth has V(default).
    type: str
  ipam_config:
    description: Address pools. Without one, a free subnet is chosen.
    type: list
    elements: dict
    suboptions:
      subnet:
        description: Subnet in CIDR form (V(172.30.0.0/24)).
        type: str
      iprange:
        description: Range (CIDR) inside O(ipam_config[].subnet) that dynamic addresses come from.
        type: str
      gateway:
        description: Gateway address (default the first address of the subnet).
        type: str
      aux_addresses:
        description: Addresses reserved for other uses, name to address.
        type: dict
  internal:
    description: Cut the network off from the outside (no masquerading, no published ports).
    type: bool
  enable_ipv6:
    description: Berth networks are IPv4 only; only V(false) is accepted.
    type: bool
  attachable:
    description: Accepted for compatibility; every Berth network is attachable.
    type: bool
  labels:
    description: Network labels.
    type: dict
  connected:
    description:
      - Containers that must be connected to the network.
      - When not set, connections are not managed. When set and O(appends=false), other containers are disconnected.
    type: list
    elements: str
    aliases: [containers]
  appends:
    description: Keep containers connected that O(connected) does not list.
    type: bool
    default: false
    aliases: [incremental]
  force:
    description: Disconnect containers first when the network has to be removed or recreated.
    type: bool
    default: false
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_network
  - module: berth.engine.network_info
"""

EXAMPLES = r"""
- name: Create a network with a fixed subnet
  berth.engine.network:
    name: app
    ipam_config:
      - subnet: 172.30.0.0/24
        gateway: 172.30.0.1

- name: Remove it, disconnecting its containers
  berth.engine.network:
    name: app
    state: absent
    force: true
"""

RETURN = r"""
network:
  description: Facts of the network in the shape of C(docker network inspect); empty when absent.
  returned: success
  type: dict
  sample:
    Name: app
    Driver: bridge
    IPAM:
      Config: [{Subnet: 172.30.0.0/24, Gateway: 172.30.0.1}]
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_network


def main():
    run_network()


if __name__ == "__main__":
    main()
