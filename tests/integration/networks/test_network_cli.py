"""`berth network ...` verbs: docker's flags and output; bad input changes nothing."""

from __future__ import annotations

import json
import os

import pytest


def test_create_ls_inspect_rm_prune(berth_host):
    h = berth_host
    nid = h.run("network", "create", "--subnet", "10.210.0.0/24", "--gateway", "10.210.0.254",
                "--ip-range", "10.210.0.128/25", "--label", "tier=db", "--internal", "backend").stdout.strip()
    assert len(nid) == 64
    lines = h.run("network", "ls").stdout.splitlines()
    assert lines[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert sorted(ln.split()[1] for ln in lines[1:]) == ["backend", "bridge", "host", "none"]
    rows = [json.loads(x) for x in h.run("network", "ls", "--format", "json").stdout.splitlines()]
    assert {r["Name"]: r["Driver"] for r in rows} == {"backend": "bridge", "bridge": "bridge", "host": "host",
                                                       "none": "null"}
    assert h.run("network", "ls", "-q", "--filter", "label=tier=db").stdout.split() == [nid[:12]]
    net = h.json("network", "inspect", "backend")[0]
    assert net["Id"] == nid and net["Internal"] is True and net["Labels"] == {"tier": "db"}
    assert net["IPAM"]["Config"] == [{"Subnet": "10.210.0.0/24", "Gateway": "10.210.0.254",
                                      "IPRange": "10.210.0.128/25"}]
    assert h.json("inspect", "network", nid[:12])[0]["Name"] == "backend"
    p = h.run("network", "create", "backend", check=False)
    assert p.returncode == 1 and "backend" in p.stderr
    p = h.run("network", "create", "--subnet", "10.210.0.0/16", "overlap", check=False)
    assert p.returncode == 1 and "10.210.0.0/24" in p.stderr
    p = h.run("network", "rm", "bridge", check=False)
    assert p.returncode == 1 and "pre-defined" in p.stderr
    h.run("network", "create", "spare")
    assert h.run("network", "prune", "-f").stdout.split() == ["Deleted", "Networks:", "backend", "spare"]
    assert h.run("network", "inspect", "spare", check=False).returncode == 3


@pytest.mark.parametrize("args,needle", [
    (["--subnet", "10.0.0.0/33"], "10.0.0.0/33"),
    (["--subnet", "10.9.0.0/24", "--gateway", "10.8.0.1"], "10.8.0.1"),
    (["--subnet", "10.9.0.0/24", "--ip-range", "10.7.0.0/25"], "10.7.0.0/25"),
    (["--gateway", "10.9.0.1"], "subnet"),
    (["-d", "overlay"], "overlay"),
    (["-o", "com.docker.network.bridge.name=this-name-is-far-too-long"], "this-name-is-far-too-long"),
])
def test_bad_create_input_is_exit_2_and_changes_nothing(berth_host, args, needle):
    h = berth_host
    p = h.run("network", "create", *args, "bad", check=False)
    assert p.returncode == 2 and needle in p.stderr
    assert h.run("network", "inspect", "bad", check=False).returncode == 3


@pytest.mark.requires("root", "runc", "conmon", "nft", "busybox", "overlay")
def test_bad_container_network_input_changes_nothing(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "--subnet", "10.211.0.0/24", "fixed")
    for args, needle in ((["--network", "nosuch"], "nosuch"),
                         (["--network", "fixed", "--ip", "10.99.0.5"], "10.99.0.5"),
                         (["--ip", "172.17.0.9"], "user-defined"),
                         (["--network", "fixed", "--mac-address", "zz"], "zz")):
        p = h.run("run", "-d", *args, busybox_image, "sleep", "5", check=False)
        assert p.returncode != 0 and needle in p.stderr, (args, p.stderr)
    assert h.run("ps", "-aq").stdout.split() == []


@pytest.mark.requires("root", "runc", "conmon", "nft", "busybox", "overlay")
def test_default_subnet_from_config_and_static_mac(berth_host, busybox_image):
    h = berth_host
    h.write_config('default_subnet = "10.212.5.0/24"\n')
    assert h.json("network", "inspect", "bridge")[0]["IPAM"]["Config"] == [
        {"Subnet": "10.212.5.0/24", "Gateway": "10.212.5.1"}]
    h.run("network", "create", "--subnet", "10.213.0.0/24", "macs")
    out = h.run("run", "--rm", "--network", "macs", "--ip", "10.213.0.9", "--mac-address", "02:aa:bb:cc:dd:ee",
                busybox_image, "ip", "addr", "show", "eth0").stdout
    assert "10.213.0.9/24" in out and "02:aa:bb:cc:dd:ee" in out
    out = h.run("run", "--rm", busybox_image, "ip", "-o", "-4", "addr", "show", "eth0").stdout
    assert " 10.212.5.2/24 " in out


@pytest.mark.requires("root", "runc", "conmon", "nft", "busybox", "overlay")
def test_prune_sweeps_what_a_crash_left(berth_host, busybox_image):
    """State lost (as after a crash): `network prune` removes this root's tagged links, netns
    files and rules, and nothing of any other root."""
    import shutil

    from tests.integration.networks.conftest import snapshot

    h = berth_host
    before = snapshot(str(h.base))
    h.run("network", "create", "crashy")
    h.run("run", "-d", "--name", "victim", "--network", "crashy", "-p", "80", busybox_image, "sleep", "300")
    assert snapshot(str(h.base))["links"] != before["links"]
    shutil.rmtree(h.runroot / "net", ignore_errors=True)  # the endpoint state is gone
    h.run("rm", "-f", "victim")
    left = snapshot(str(h.base))
    assert left["links"] and left["tables"]  # teardown could not know about them
    h.run("network", "prune", "-f")
    after = snapshot(str(h.base))
    assert after == before


def test_format_templates_of_ls_and_inspect(berth_host, busybox_image):
    """docker's --format idioms on network, volume and container verbs print what they name."""
    h = berth_host
    h.run("network", "create", "--subnet", "10.211.0.0/24", "--label", "tier=web", "front")
    h.run("volume", "create", "--label", "keep=yes", "webdata")
    assert h.run("network", "ls", "--format", "{{.Name}}").stdout.split() == ["bridge", "front", "host", "none"]
    lines = h.run("network", "ls", "--filter", "name=front", "--format", "table {{.Name}}\\t{{.Labels}}").stdout
    assert [ln.split() for ln in lines.splitlines()] == [["NAME", "LABELS"], ["front", "tier=web"]]
    assert h.run("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}",
                 "front").stdout == "10.211.0.0/24 10.211.0.1\n"
    mp = h.run("volume", "inspect", "--format", "{{.Mountpoint}}", "webdata").stdout.strip()
    assert mp == h.json("volume", "inspect", "webdata")[0]["Mountpoint"] and os.path.isdir(mp)
    assert h.run("volume", "ls", "--format", "{{.Name}}={{.Labels}}").stdout == "webdata=keep=yes\n"
    h.run("run", "-d", "--name", "fmtweb", "--network", "front", "--ip", "10.211.0.9", busybox_image, "sleep", "300")
    try:
        out = h.run("inspect", "-f", "{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{$e.IPAddress}}{{end}}",
                    "fmtweb").stdout
        assert out == "front 10.211.0.9\n"
        p = h.run("network", "inspect", "-f", "{{.Nope}}", "front", check=False)
        assert p.returncode == 2 and "Nope" in p.stderr and p.stdout == ""
    finally:
        h.run("rm", "-f", "fmtweb")
        h.run("network", "rm", "front")
        h.run("volume", "rm", "webdata")
