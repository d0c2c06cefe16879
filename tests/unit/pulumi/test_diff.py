"""The one diff helper: replaces vs in-place, compared on the user's inputs only."""

from __future__ import annotations

import pytest
from pulumi_berth import (
    ContainerProvider,
    ImageProvider,
    NetworkProvider,
    RemoteImageProvider,
    VolumeProvider,
)
from pulumi_berth._diff import UNKNOWN, equal

CONN = {"host": "10.0.0.1", "port": 22, "user": "root", "private_key": "K1", "host_key": "ssh-ed25519 AAA"}
BASE = {"connection": CONN, "name": "web", "image": "busybox:1.36", "restart_policy": "always",
        "published_ports": ["8080:80"]}
# what the host filled in: outputs, never compared
OUTS = {"container_id": "abc", "image_id": "sha256:1", "status": "running", "ip_addresses": {"n": "10.1.0.2"},
        "ports": {}}


@pytest.mark.parametrize(("change", "changes", "replaces", "dbr"), [
    ({}, False, [], False),
    ({"restart_policy": "unless-stopped"}, True, [], False),
    ({"memory": "256m"}, True, [], False),
    ({"state": "stopped"}, True, [], False),
    ({"pull": "always"}, True, [], False),
    ({"recreate": True}, False, [], False),
    ({"image": "busybox:1.37"}, True, ["image"], True),
    ({"published_ports": ["8081:80"]}, True, ["published_ports"], True),
    ({"env": {"A": "1"}}, True, ["env"], True),
    ({"name": "web2"}, True, ["name"], True),
    ({"connection": {**CONN, "private_key": "K2"}}, True, [], False),  # a rotated key: state only
    ({"connection": {**CONN, "host": "10.0.0.2"}}, True, ["connection"], True),
    ({"engine": {"root": "/srv/berth"}}, True, ["engine"], True),
    ({"engine": {"command": "/usr/local/bin/berth"}}, True, [], False),
    ({"adopt": True}, True, [], False),
    ({"image": UNKNOWN}, True, ["image"], True),
    ({"labels": {}}, False, [], False),  # empty equals unset
])
def test_container_diff(change: dict, changes: bool, replaces: list[str], dbr: bool) -> None:
    olds = {**BASE, **OUTS}
    news = {**BASE, **change}
    d = ContainerProvider().diff("abc", olds, news)
    assert d.changes is changes
    assert sorted(d.replaces or []) == replaces
    assert bool(d.delete_before_replace) is dbr


def test_outputs_filled_by_host_are_not_compared() -> None:
    olds = {**BASE, **OUTS, "status": "exited"}
    news = {**BASE, "container_id": None, "status": None}
    assert ContainerProvider().diff("abc", olds, news).changes is False


@pytest.mark.parametrize(("provider", "olds", "change", "replaces", "dbr"), [
    (NetworkProvider(), {"name": "n", "ipam_config": [{"subnet": "10.9.0.0/24"}]},
     {"ipam_config": [{"subnet": "10.8.0.0/24"}]}, ["ipam_config"], True),
    (NetworkProvider(), {"name": "n"}, {"internal": True}, ["internal"], True),
    (NetworkProvider(), {"name": "n"}, {"force": True}, [], False),
    (VolumeProvider(), {"volume_name": "v"}, {"labels": {"a": "b"}}, ["labels"], True),
    (VolumeProvider(), {"volume_name": "v"}, {"volume_name": "w"}, ["volume_name"], True),
    (RemoteImageProvider(), {"name": "busybox", "tag": "1.36"}, {"tag": "1.37"}, ["tag"], False),
    (RemoteImageProvider(), {"name": "busybox", "registry_auth": {"password": "a"}},
     {"registry_auth": {"password": "b"}}, [], False),
    (ImageProvider(), {"name": "app", "path": "/src", "context_hash": "sha256:1"},
     {"context_hash": "sha256:2"}, [], False),
    (ImageProvider(), {"name": "app", "path": "/src", "context_hash": "sha256:1"}, {"path": "/src2"}, [], False),
    (ImageProvider(), {"name": "app", "path": "/src", "context_hash": "sha256:1"}, {"name": "app2"}, ["name"],
     False),
])
def test_other_kinds(provider, olds: dict, change: dict, replaces: list[str], dbr: bool) -> None:
    olds = {"connection": CONN, **olds}
    d = provider.diff("id", olds, {**olds, **change})
    assert sorted(d.replaces or []) == replaces
    assert bool(d.delete_before_replace) is dbr
    if "registry_auth" in change:
        assert d.changes is False  # credentials never make a diff
    else:
        assert d.changes is True


@pytest.mark.parametrize(("a", "b", "eq"), [
    (None, [], True), (None, {}, True), ({"a": None}, None, True), ([1, 2], [2, 1], False),
    ({"a": 1}, {"a": 1, "b": None}, True), ("x", UNKNOWN, False), (UNKNOWN, UNKNOWN, False),
])
def test_equal(a, b, eq: bool) -> None:
    assert equal(a, b) is eq


def test_update_refuses_a_replacement() -> None:
    """update() never silently deletes and creates: a replace-only change is an error."""
    with pytest.raises(Exception, match="cannot change in place"):
        ContainerProvider().update("abc", {**BASE, **OUTS}, {**BASE, "image": "other"})


def test_update_of_state_only_inputs_touches_nothing() -> None:
    """A rotated key reaches the state without an engine call (the connection is fake here)."""
    olds = {**BASE, **OUTS}
    res = ContainerProvider().update("abc", olds, {**BASE, "connection": {**CONN, "private_key": "K2"}})
    assert res.outs["connection"]["private_key"] == "K2"
    assert res.outs["container_id"] == "abc"


NETS = [{"name": "front", "aliases": ["web"]}, {"name": "back"}]


@pytest.mark.parametrize(("change", "changes", "replaces"), [
    ({"networks": NETS + [{"name": "extra"}]}, True, []),  # connect another: in place
    ({"networks": [NETS[0], {"name": "back", "aliases": ["b"]}]}, True, []),  # reconnect a secondary
    ({"networks": NETS[:1]}, True, []),  # drop a secondary
    ({"networks": [{"name": "front", "aliases": ["www"]}, NETS[1]]}, True, ["networks"]),  # the primary's settings
    ({"networks": [NETS[1], NETS[0]]}, True, ["networks"]),  # another primary
    ({"networks": NETS + [{"name": "extra"}], "network_mode": "host"}, True, ["network_mode", "networks"]),
    ({"networks": NETS + [{"name": UNKNOWN}]}, True, ["networks"]),  # not known in preview: assume the worst
    ({"paused": True}, True, []),  # pause/unpause: the same container
    ({"env": {"A": "2"}, "comparisons": {"env": "ignore"}}, True, []),  # only `comparisons` itself changed
])
def test_container_networks_and_comparisons(change: dict, changes: bool, replaces: list[str]) -> None:
    """The same split as `berth apply`: networks change in place unless the primary (first)
    network changes; `comparisons: ignore` options are not compared."""
    olds = {**BASE, **OUTS, "networks": NETS, "env": {"A": "1"}}
    news = {**BASE, "networks": NETS, "env": {"A": "1"}, **change}
    d = ContainerProvider().diff("abc", olds, news)
    assert d.changes is changes
    assert sorted(d.replaces or []) == replaces
    assert bool(d.delete_before_replace) is bool(replaces)


def test_comparisons_ignore_hides_the_option() -> None:
    olds = {**BASE, **OUTS, "env": {"A": "1"}, "comparisons": {"env": "ignore"}}
    news = {**BASE, "env": {"A": "2"}, "comparisons": {"env": "ignore"}}
    assert ContainerProvider().diff("abc", olds, news).changes is False
