"""`berth apply` kinds volume and container on a user network with ports and volumes, against
the real engine (netlink, nftables, overlayfs)."""

import json
import socket

import pytest

from .helpers import converge, ok, refused, request

pytestmark = pytest.mark.requires("root")


def volumes(host):
    return sorted((v["Name"], json.dumps(v.get("Labels"), sort_keys=True)) for v in host.json("ls", "volume"))


def test_volume_lifecycle(berth_host):
    snap = lambda: volumes(berth_host)  # noqa: E731
    spec = {"volume_name": "data", "labels": {"tier": "db"}}
    assert converge(berth_host, request("volume", spec), snap)["actions"] == ["created"]
    r = converge(berth_host, request("volume", {**spec, "labels": {"tier": "cache"}}), snap)
    assert not r["changed"] and r["warnings"]
    r = converge(berth_host, request("volume", {**spec, "labels": {"tier": "cache"},
                                                "recreate": "options-changed"}), snap)
    assert r["actions"] == ["recreated"] and r["resource"]["Labels"] == {"tier": "cache"}
    refused(berth_host, request("volume", {**spec, "driver": "nfs"}), "spec.driver", snap)
    refused(berth_host, request("volume", {**spec, "driver_options": {"size": "1g"}}),
            "spec.driver_options.size", snap)
    assert converge(berth_host, request("volume", spec, "absent"), snap)["actions"] == ["removed"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.requires("runc", "conmon", "overlay", "nft")
def test_container_on_network_with_ports_and_volumes(berth_host, busybox_image, tmp_path):
    port = _free_port()
    net = {"name": "appnet", "ipam_config": [{"subnet": "10.92.0.0/24"}]}
    ok(berth_host, request("network", net))
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("hello from berth apply\n")
    spec = {"name": "www", "image": busybox_image,
            "command": ["httpd", "-f", "-p", "80", "-h", "/www"],
            "networks": [{"name": "appnet", "aliases": ["web"], "ipv4_address": "10.92.0.10"}],
            "published_ports": [f"127.0.0.1:{port}:80"],
            "volumes": [f"{tmp_path / 'site'}:/www:ro", "wwwdata:/data", "/cache"],
            "mounts": [{"target": "/tmpfs", "type": "tmpfs", "tmpfs_size": "1m"}]}
    r = converge(berth_host, request("container", spec))
    assert r["actions"] == ["created", "started"]
    nets = r["resource"]["NetworkSettings"]["Networks"]
    assert nets["appnet"]["IPAddress"] == "10.92.0.10" and "web" in nets["appnet"]["Aliases"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert b"hello from berth apply" in data
    # joining a second network happens in place (same container), and is idempotent
    side = {"name": "sidenet", "ipam_config": [{"subnet": "10.93.0.0/24"}]}
    ok(berth_host, request("network", side))
    # network kind: `connected` attaches the running container (docker_network's connected)
    rn = converge(berth_host, request("network", {**side, "connected": ["www"], "appends": True}))
    assert rn["actions"] == ["connected www"]
    assert [c["Name"] for c in rn["resource"]["Containers"].values()] == ["www"]
    two = {**spec, "networks": [*spec["networks"], {"name": "sidenet", "aliases": ["side"]}]}
    r2 = converge(berth_host, request("container", two))
    assert r2["actions"] == ["updated"] and r2["resource"]["Id"] == r["resource"]["Id"]
    assert "sidenet" in r2["resource"]["NetworkSettings"]["Networks"]
    # a different published port recreates; the address stays as asked
    port2 = _free_port()
    r = converge(berth_host, request("container", {**spec, "published_ports": [f"127.0.0.1:{port2}:80"]}))
    assert r["actions"] == ["recreated", "started"] and "published_ports" in r["diff"]["after"]
    ok(berth_host, request("container", {"name": "www", "keep_volumes": False}, "absent"))
    ok(berth_host, request("network", {"name": "appnet"}, "absent"))
    ok(berth_host, request("network", {"name": "sidenet"}, "absent"))


@pytest.mark.requires("overlay")
def test_prune_volumes_and_networks(berth_host, busybox_image):
    ok(berth_host, request("network", {"name": "unused"}))
    ok(berth_host, request("volume", {"volume_name": "named"}))
    spec = {"name": "tmp", "image": busybox_image, "volumes": ["/anon"], "network_mode": "none"}
    ok(berth_host, request("container", spec, "present"))
    ok(berth_host, request("container", {"name": "tmp"}, "absent"))  # keep_volumes: the anonymous one stays
    anon = [v["Name"] for v in berth_host.json("ls", "volume") if v["Name"] != "named"]
    assert len(anon) == 1
    req = request("prune", {"volumes": True, "networks": True})
    rc, predicted = berth_host.apply({**req, "check": True})
    assert rc == 0 and predicted["volumes"] == anon and predicted["networks"] == ["unused"]
    rc, out = berth_host.apply(req)
    assert rc == 0 and out["changed"] and out["volumes"] == anon and out["networks"] == ["unused"]
    assert [v["Name"] for v in berth_host.json("ls", "volume")] == ["named"]
    rc, out = berth_host.apply(req)
    assert rc == 0 and not out["changed"]
