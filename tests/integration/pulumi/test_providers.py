"""Each provider's check/diff/create/read/update/delete, called directly the way the Pulumi engine
calls a dynamic provider, over the loopback sshd against a real engine root."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pulumi_berth as berth
import pytest

from tests.fixtures.images import import_into

pytestmark = pytest.mark.requires("root", "sshd")
RUNTIME = ("root", "runc", "conmon", "nft", "sshd", "busybox", "overlay")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _props(conn: dict, engine: dict, **kw: Any) -> dict[str, Any]:
    return {"connection": conn, "engine": engine, **kw}


def _checked(provider, props: dict, olds: dict | None = None) -> dict[str, Any]:
    res = provider.check(olds or {}, props)
    assert res.failures == [], [(f.property, f.reason) for f in res.failures]
    return res.inputs


def test_network_lifecycle(conn, engine, berth_host) -> None:
    p = berth.NetworkProvider()
    bad = p.check({}, _props(conn, engine, name="n1", ipam_config=[{"subnet": "10.300.0.0/24"}]))
    assert [f.property for f in bad.failures] == ["ipam_config"]
    assert "10.300.0.0/24" in bad.failures[0].reason

    props = _checked(p, _props(conn, engine, name="n1", ipam_config=[{"subnet": "10.61.0.0/24"}]))
    made = p.create(props)
    assert made.outs["subnet"] == "10.61.0.0/24" and made.outs["gateway"] == "10.61.0.1"
    assert made.id == made.outs["network_id"]
    assert berth_host.json("inspect", "network", "n1")[0]["Id"] == made.id

    assert p.diff(made.id, made.outs, props).changes is False
    d = p.diff(made.id, made.outs, {**props, "internal": True})
    assert d.replaces == ["internal"] and d.delete_before_replace

    with pytest.raises(Exception, match="already exists .*adopt=True"):
        p.create(props)
    adopted = p.create({**props, "adopt": True})
    assert adopted.id == made.id

    read = p.read(made.id, made.outs)
    assert read.id == made.id and read.outs["subnet"] == "10.61.0.0/24"
    p.delete(made.id, made.outs)
    assert p.read(made.id, made.outs).id == ""
    p.delete(made.id, made.outs)  # already gone: still fine


def test_volume_lifecycle(conn, engine, berth_host) -> None:
    p = berth.VolumeProvider()
    props = _checked(p, _props(conn, engine, volume_name="data1", labels={"app": "demo"}))
    made = p.create(props)
    assert made.id == "data1"
    assert made.outs["mountpoint"] and Path(made.outs["mountpoint"]).is_dir()
    assert str(berth_host.root) in made.outs["mountpoint"]
    assert p.read(made.id, made.outs).outs["mountpoint"] == made.outs["mountpoint"]
    assert p.diff(made.id, made.outs, {**props, "labels": {"app": "x"}}).replaces == ["labels"]
    p.delete(made.id, made.outs)
    assert p.read(made.id, made.outs).id == ""
    p.delete(made.id, made.outs)


@pytest.mark.requires(*RUNTIME)
def test_container_lifecycle(conn, engine, berth_host, busybox_image) -> None:
    p = berth.ContainerProvider()
    port = free_port()
    base = _props(conn, engine, name="c1", image=busybox_image, command=["sleep", "300"], force_kill=True,
                  published_ports=[f"127.0.0.1:{port}:80"], restart_policy="no")
    bad = p.check({}, {**base, "memory": "12x"})
    assert [f.property for f in bad.failures] == ["memory"] and "12x" in bad.failures[0].reason

    props = _checked(p, base)
    made = p.create(props)
    cid = made.outs["container_id"]
    assert made.id == cid and made.outs["status"] == "running"
    assert made.outs["ports"] == {"80/tcp": [{"host_ip": "127.0.0.1", "host_port": port}]}
    assert made.outs["image_id"].startswith("sha256:")

    # restart policy: in place, same container
    news = _checked(p, {**props, "restart_policy": "always"}, props)
    d = p.diff(made.id, made.outs, news)
    assert d.changes and not d.replaces
    upd = p.update(made.id, made.outs, news)
    assert upd.outs["container_id"] == cid
    live = berth_host.json("inspect", "container", "c1")[0]
    assert live["Id"] == cid and live["HostConfig"]["RestartPolicy"]["Name"] == "always"

    # a different command: replacement, old one deleted first (fixed name and host port)
    d = p.diff(made.id, upd.outs, {**news, "command": ["sleep", "301"]})
    assert d.replaces == ["command"] and d.delete_before_replace is True

    # refresh shows drift made by hand
    berth_host.run("update", "--restart", "no", "c1")
    r = p.read(made.id, upd.outs)
    assert r.id == cid and r.inputs["restart_policy"] == "no"

    p.delete(made.id, upd.outs)
    assert p.read(made.id, upd.outs).id == ""
    p.delete(made.id, upd.outs)
    assert berth_host.run("inspect", "container", "c1", check=False).returncode == 3


@pytest.mark.requires(*RUNTIME)
def test_container_create_is_transactional(conn, engine, berth_host, busybox_image) -> None:
    """A create that fails half-way (its host port is taken) leaves nothing on the host."""
    p = berth.ContainerProvider()
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        props = _checked(p, _props(conn, engine, name="c2", image=busybox_image, command=["sleep", "300"], force_kill=True,
                                   published_ports=[f"127.0.0.1:{port}:80"]))
        with pytest.raises(Exception, match=str(port)):
            p.create(props)
    assert berth_host.run("inspect", "container", "c2", check=False).returncode == 3


@pytest.mark.requires(*RUNTIME)
def test_image_build_follows_the_context(conn, engine, berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY page.txt /page.txt\n")
    (ctx / "page.txt").write_text("v1")
    (ctx / "big.log").write_text("ignored")
    (ctx / ".dockerignore").write_text("*.log\n")
    p = berth.ImageProvider()
    bad = p.check({}, _props(conn, engine, name="pb/app", path=str(tmp_path / "nope")))
    assert [f.property for f in bad.failures] == ["path"]
    props = _checked(p, _props(conn, engine, name="pb/app", tag="1", path=str(ctx)))
    h1 = props["context_hash"]
    made = p.create(props)
    assert made.outs["image_id"].startswith("sha256:") and made.id == made.outs["image_id"]

    (ctx / "big.log").write_text("still ignored")
    same = _checked(p, {**props, "context_hash": None}, props)
    assert same["context_hash"] == h1
    assert p.diff(made.id, made.outs, same).changes is False

    (ctx / "page.txt").write_text("v2")
    news = _checked(p, {**props, "context_hash": None}, props)
    d = p.diff(made.id, made.outs, news)
    assert d.changes and d.replaces == []  # a rebuild under the same name
    upd = p.update(made.id, made.outs, news)
    assert upd.outs["image_id"] != made.outs["image_id"]
    assert berth_host.json("inspect", "image", "pb/app:1")[0]["Id"] == upd.outs["image_id"]
    p.delete(made.id, upd.outs)
    assert p.read(made.id, upd.outs).id == ""


@pytest.mark.requires("root", "sshd", "registry")
def test_remote_image_pull(conn, engine, berth_host, busybox_image, busybox_rootfs, open_registry) -> None:
    ref = f"{open_registry.host}/pb/busybox:1"
    berth_host.run("tag", busybox_image, ref)
    berth_host.run("push", ref)
    berth_host.run("rmi", ref)
    p = berth.RemoteImageProvider()
    props = _checked(p, _props(conn, engine, name=f"{open_registry.host}/pb/busybox", tag="1"))
    made = p.create(props)
    assert made.outs["repo_digest"].startswith(f"{open_registry.host}/pb/busybox@sha256:")
    assert made.id == made.outs["image_id"]
    assert p.diff(made.id, made.outs, props).changes is False

    # pull: always — a new digest pushed behind the same tag is an in-place update
    always = _checked(p, {**props, "pull": "always"}, props)
    upd = p.update(made.id, made.outs, always)
    assert upd.outs["image_id"] == made.outs["image_id"]
    assert p.diff(made.id, upd.outs, always).changes is False
    import_into(berth_host, busybox_rootfs, ref, ['CMD ["true"]'])
    berth_host.run("push", ref)
    berth_host.run("rmi", ref)
    d = p.diff(made.id, upd.outs, always)
    assert d.changes is True and not d.replaces
    upd2 = p.update(made.id, upd.outs, always)
    assert upd2.outs["image_id"] != made.outs["image_id"]
    assert upd2.outs["repo_digest"] != made.outs["repo_digest"]
    p.delete(made.id, upd2.outs)
    assert p.read(made.id, upd2.outs).id == ""


@pytest.mark.requires(*RUNTIME)
def test_container_networks_update_in_place(conn, engine, berth_host, busybox_image) -> None:
    """What diff predicts is what the engine does: connecting a second network keeps the
    container (same id, no recreate); a new primary network is a replacement."""
    nets = berth.NetworkProvider()
    made_nets = [nets.create(_checked(nets, _props(conn, engine, name=n, ipam_config=[{"subnet": s}])))
                 for n, s in (("pn1", "10.62.0.0/24"), ("pn2", "10.63.0.0/24"))]
    p = berth.ContainerProvider()
    props = _checked(p, _props(conn, engine, name="cn", image=busybox_image, command=["sleep", "300"],
                               force_kill=True, networks=[{"name": "pn1", "aliases": ["a"]}]))
    made = p.create(props)
    assert set(made.outs["ip_addresses"]) == {"pn1"}
    news = _checked(p, {**props, "networks": [*props["networks"], {"name": "pn2"}]}, props)
    d = p.diff(made.id, made.outs, news)
    assert d.changes and not d.replaces
    upd = p.update(made.id, made.outs, news)
    assert upd.outs["container_id"] == made.id
    assert upd.outs["ip_addresses"]["pn2"].startswith("10.63.0.")
    assert set(berth_host.json("inspect", "container", "cn")[0]["NetworkSettings"]["Networks"]) == {"pn1", "pn2"}
    d = p.diff(made.id, upd.outs, {**news, "networks": [{"name": "pn2"}]})
    assert d.replaces == ["networks"] and d.delete_before_replace
    p.delete(made.id, upd.outs)
    for m in made_nets:
        nets.delete(m.id, m.outs)
    assert berth_host.run("inspect", "network", "pn1", check=False).returncode == 3


@pytest.mark.parametrize(("cls", "props", "prop", "value"), [
    (berth.ContainerProvider, {"name": "cc", "image": "busybox", "restart_policy": "sometimes"},
     "restart_policy", "sometimes"),
    (berth.NetworkProvider, {"name": "nc", "driver": "overlay"}, "driver", "overlay"),
    (berth.VolumeProvider, {"volume_name": "vc", "driver": "nfs"}, "driver", "nfs"),
    (berth.RemoteImageProvider, {"name": "busybox", "pull": "sometimes"}, "pull", "sometimes"),
    (berth.ImageProvider, {"name": "app", "nocache": "maybe"}, "nocache", "maybe"),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_check_names_the_property_for_every_kind(conn, engine, berth_host, tmp_path: Path, cls, props, prop,
                                                 value) -> None:
    """check validates through the engine (check mode, nothing made) and the failure names the
    property and the value."""
    if cls is berth.ImageProvider:
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        props = {**props, "path": str(tmp_path)}
    res = cls().check({}, _props(conn, engine, **props))
    assert [f.property for f in res.failures] == [prop], [(f.property, f.reason) for f in res.failures]
    assert value in res.failures[0].reason
    assert berth_host.json("ls", "container") == [] and berth_host.json("ls", "volume") == []


def test_check_in_preview_validates_the_known_inputs(conn, engine, berth_host) -> None:
    """During preview the image of a Container is often an unknown output: the other inputs are
    still validated by the engine, and nothing is made."""
    from pulumi_berth._diff import UNKNOWN

    p = berth.ContainerProvider()
    base = _props(conn, engine, name="cu", image=UNKNOWN, networks=[{"name": UNKNOWN}])
    bad = p.check({}, {**base, "memory": "12x"})
    assert [f.property for f in bad.failures] == ["memory"] and "12x" in bad.failures[0].reason
    assert p.check({}, {**base, "memory": "12m"}).failures == []
    assert berth_host.json("ls", "container") == []
