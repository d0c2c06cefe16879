from __future__ import annotations

import ipaddress

import pytest

from engine.errors import Conflict, InvalidArgument
from engine.networks import ipam

N = ipaddress.ip_network


@pytest.mark.parametrize("taken,want", [
    ([], "172.17.0.0/16"),
    ([N("172.17.0.0/16")], "172.18.0.0/16"),
    ([N("172.17.5.0/24"), N("172.18.0.0/15")], "172.20.0.0/16"),
    ([N("0.0.0.0/0")], "172.17.0.0/16"),  # the default route overlaps nothing
])
def test_pick_subnet_skips_routed_ranges(taken, want):
    assert str(ipam.pick_subnet("172.17.0.0/12", 16, taken)) == want


def test_pick_subnet_exhausted():
    with pytest.raises(Conflict, match="subnet_pool"):
        ipam.pick_subnet("10.0.0.0/23", 24, [N("10.0.0.0/23")])


@pytest.mark.parametrize("value", ["nope", "10.0.0.0/33", "fd00::/64", "10.0.0.0/31"])
def test_parse_subnet_rejects(value):
    with pytest.raises(InvalidArgument) as e:
        ipam.parse_subnet(value)
    assert value in e.value.message and e.value.field == "subnet"


def test_check_config():
    net = N("10.1.0.0/24")
    assert ipam.check_config(net, None, None) == ("10.1.0.1", None)
    assert ipam.check_config(net, "10.1.0.254", "10.1.0.128/25") == ("10.1.0.254", "10.1.0.128/25")
    with pytest.raises(InvalidArgument, match="gateway"):
        ipam.check_config(net, "10.2.0.1", None)
    with pytest.raises(InvalidArgument, match="ip_range"):
        ipam.check_config(net, None, "10.1.1.0/25")


def test_allocate_in_order_skipping_used_and_gateway():
    assert ipam.allocate("10.1.0.0/24", "10.1.0.1", None, []) == "10.1.0.2"
    assert ipam.allocate("10.1.0.0/24", "10.1.0.1", None, ["10.1.0.2", "10.1.0.3"]) == "10.1.0.4"
    assert ipam.allocate("10.1.0.0/24", "10.1.0.1", "10.1.0.128/25", []) == "10.1.0.128"


def test_allocate_requested_and_exhaustion():
    assert ipam.allocate("10.1.0.0/24", "10.1.0.1", None, [], "10.1.0.77") == "10.1.0.77"
    with pytest.raises(Conflict, match="10.1.0.77"):
        ipam.allocate("10.1.0.0/24", "10.1.0.1", None, ["10.1.0.77"], "10.1.0.77")
    with pytest.raises(InvalidArgument, match="10.9.0.1"):
        ipam.allocate("10.1.0.0/24", "10.1.0.1", None, [], "10.9.0.1")
    with pytest.raises(Conflict, match="no free address"):
        ipam.allocate("10.1.0.0/30", "10.1.0.1", None, ["10.1.0.2"])


def test_mac():
    assert ipam.mac_for("172.17.0.2") == "02:42:ac:11:00:02"
    assert ipam.parse_mac("02:42:AC:11:00:09") == "02:42:ac:11:00:09"
    for bad in ("02:42", "zz:42:ac:11:00:02", "01:00:5e:00:00:01"):
        with pytest.raises(InvalidArgument):
            ipam.parse_mac(bad)
