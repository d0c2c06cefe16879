"""The example stack (examples/pulumi) as a real Pulumi program through the SDK's mock mode,
with the harness acting as the Pulumi engine, against a real engine root over SSH."""

from __future__ import annotations

import socket
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pulumi_berth.testing import Deployment

from tests.integration.containers.conftest import leftovers
from tests.integration.networks.conftest import snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "pulumi"))
import berth_stack  # noqa: E402

pytestmark = pytest.mark.requires("root", "runc", "conmon", "nft", "sshd", "busybox", "overlay")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(url: str, timeout: float = 10) -> str:
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def _names(berth_host, kind: str) -> set[str]:
    return {o["Name"].lstrip("/") for o in berth_host.json("ls", kind)}


def test_stack_lifecycle(conn, engine, berth_host, busybox_image) -> None:
    port = free_port()

    def program(**kw: Any):
        def run() -> None:
            berth_stack.deploy(conn, engine=engine, base_image=busybox_image, pull_base=False, web_port=port,
                               subnet="10.79.0.0/24", **kw)
        return run

    dep = Deployment()
    s = dep.preview(program())
    assert s.count("create") == 5 and _names(berth_host, "container") == set()

    s = dep.up(program())
    assert s.count("create") == 5, s.ops
    assert _names(berth_host, "container") == {"demo-web", "demo-client-0"}
    web = dep.resource("demo-web").outputs
    assert web["ports"] == {"80/tcp": [{"host_ip": "0.0.0.0", "host_port": port}]}
    assert web["ip_addresses"]["demo-net"].startswith("10.79.0.")
    assert dep.resource("demo-net").outputs["gateway"] == "10.79.0.1"
    assert "Hello from Berth" in _fetch(f"http://127.0.0.1:{port}/")
    # the client reaches the web container by name and writes the page into the volume
    page = Path(dep.resource("demo-data").outputs["mountpoint"]) / "page.html"
    end = time.monotonic() + 15
    while not (page.exists() and "Hello from Berth" in page.read_text()) and time.monotonic() < end:
        time.sleep(0.3)
    assert "Hello from Berth" in page.read_text()

    s = dep.up(program())  # identical second run: nothing changes, no SSH round trip
    assert [op for op, _ in s.ops] == ["same"] * 5 and s.ssh_execs == 0

    web_id = web["container_id"]
    s = dep.up(program(restart_policy="always"))  # in place
    assert s.of("demo-web") == ["update"] and s.of("demo-client-0") == ["update"]
    live = berth_host.json("inspect", "container", "demo-web")[0]
    assert live["Id"] == web_id and live["HostConfig"]["RestartPolicy"]["Name"] == "always"

    # a new image shows in preview as the container's replacement; nothing is built or replaced yet
    s = dep.preview(program(restart_policy="always", web_version="2"))
    assert s.of("demo-web-image") == ["replace"] and s.of("demo-web") == ["replace"], s.ops
    assert berth_host.run("inspect", "image", "demo/web:2", check=False).returncode == 3
    assert berth_host.json("inspect", "container", "demo-web")[0]["Id"] == web_id

    s = dep.up(program(restart_policy="always", web_version="2"))  # new image → web replaced
    assert s.of("demo-web-image") == ["replace"] and s.of("demo-web") == ["replace"]
    assert s.diffs["demo-web"].delete_before_replace is True
    live = berth_host.json("inspect", "container", "demo-web")[0]
    assert live["Id"] != web_id and live["Image"] == dep.resource("demo-web-image").outputs["image_id"]
    assert berth_host.run("inspect", "image", "demo/web:1", check=False).returncode == 3
    assert "Hello from Berth" in _fetch(f"http://127.0.0.1:{port}/")

    berth_host.run("rm", "-f", "demo-client-0")  # deleted by hand
    s = dep.refresh()
    assert ("gone", "demo-client-0") in s.ops
    s = dep.up(program(restart_policy="always", web_version="2"))
    assert s.of("demo-client-0") == ["create"]

    dep.destroy()
    assert _names(berth_host, "container") == set()
    assert _names(berth_host, "volume") == set()
    assert not {"demo-net"} & _names(berth_host, "network")
    assert berth_host.run("inspect", "image", "demo/web:2", check=False).returncode == 3
    # nothing left running or mounted: no conmon, mount, cgroup, veth or bridge of this host
    assert leftovers(berth_host) == []
    left = snapshot(str(berth_host.base))
    assert (left["links"], left["mounts"]) == ([], [])


@pytest.mark.requires("registry")
def test_example_main_as_pulumi_up_runs_it(conn, engine, berth_host, busybox_image, open_registry) -> None:
    """examples/pulumi/__main__.py with its stack configuration against the real engine: the base
    image pulled from a registry (RemoteImage → repo digest → build arg of the web image), the
    page served on the published port, an identical rerun that changes nothing, destroy clean."""
    import runpy

    import pulumi

    base = f"{open_registry.host}/demo/busybox:1"
    berth_host.run("tag", busybox_image, base)
    berth_host.run("push", base)
    berth_host.run("rmi", base)
    port = free_port()
    # (this test host's runroot and config ride on the engine command)
    command = f"{engine['command']} --runroot {engine['runroot']} --config {engine['config']}"
    pulumi.runtime.set_all_config({
        "berth-demo:host": conn["host"], "berth-demo:port": str(conn["port"]), "berth-demo:user": conn["user"],
        "berth-demo:hostKey": conn["host_key"], "berth-demo:privateKey": conn["private_key"],
        "berth-demo:baseImage": base, "berth-demo:webPort": str(port),
        "berth-demo:engineCommand": command, "berth-demo:engineRoot": engine["root"],
    }, ["berth-demo:privateKey"])
    main = str(Path(berth_stack.__file__).with_name("__main__.py"))
    dep = Deployment(project="berth-demo")
    try:
        s = dep.up(lambda: runpy.run_path(main))
        assert s.count("create") == 6, s.ops
        digest = dep.resource("demo-base").outputs["repo_digest"]
        assert digest.startswith(f"{open_registry.host}/demo/busybox@sha256:")
        assert "Hello from Berth" in _fetch(f"http://127.0.0.1:{port}/")
        assert _names(berth_host, "container") == {"demo-web", "demo-client-0"}
        s = dep.up(lambda: runpy.run_path(main))
        assert [op for op, _ in s.ops] == ["same"] * 6 and s.ssh_execs == 0
        dep.destroy()
        assert _names(berth_host, "container") == set() and _names(berth_host, "volume") == set()
        assert "demo-net" not in _names(berth_host, "network")
        assert berth_host.run("inspect", "image", "demo/web:1", check=False).returncode == 3
        assert berth_host.run("inspect", "image", digest, check=False).returncode == 0  # keep_locally
    finally:
        dep.destroy()
        pulumi.runtime.set_all_config({}, [])


@pytest.mark.requires("registry")
def test_container_follows_its_remote_image(conn, engine, berth_host, busybox_image, busybox_rootfs,
                                            open_registry) -> None:
    """A Container given a RemoteImage's image_id: a new digest pushed behind the tag shows in
    preview as the image's update and the container's replacement, and up carries it out."""
    import pulumi_berth as berth

    from tests.fixtures.images import import_into

    ref = f"{open_registry.host}/follow/busybox"
    berth_host.run("tag", busybox_image, f"{ref}:1")
    berth_host.run("push", f"{ref}:1")
    berth_host.run("rmi", f"{ref}:1")

    def program() -> None:
        img = berth.RemoteImage("img", connection=conn, engine=engine, name=ref, tag="1", pull="always")
        berth.Container("follower", connection=conn, engine=engine, image=img.image_id,
                        command=["sleep", "300"], force_kill=True)

    dep = Deployment()
    try:
        dep.up(program)
        first = berth_host.json("inspect", "container", "follower")[0]
        assert first["Image"] == dep.resource("img").outputs["image_id"]
        assert [op for op, _ in dep.preview(program).ops] == ["same", "same"]

        import_into(berth_host, busybox_rootfs, f"{ref}:1", ['CMD ["true"]'])  # a new digest behind :1
        berth_host.run("push", f"{ref}:1")
        berth_host.run("rmi", f"{ref}:1")
        s = dep.preview(program)
        assert s.of("img") == ["update"] and s.of("follower") == ["replace"], s.ops
        assert berth_host.json("inspect", "container", "follower")[0]["Id"] == first["Id"]  # preview acts not

        s = dep.up(program)
        assert s.of("img") == ["update"] and s.of("follower") == ["replace"], s.ops
        now = berth_host.json("inspect", "container", "follower")[0]
        assert now["Id"] != first["Id"] and now["Image"] == dep.resource("img").outputs["image_id"] != first["Image"]
    finally:
        dep.destroy()
    assert _names(berth_host, "container") == set()
