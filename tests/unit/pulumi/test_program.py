"""The example program through the SDK's mock mode and the engine-like harness, over a real SSH
connection, against a stand-in engine (fake_berth.py) that speaks the `berth apply` contract.
The same flows run against the real engine in tests/integration/pulumi/test_program.py."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_berth import _ssh
from pulumi_berth.testing import CheckFailed, Deployment

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "pulumi"))
import berth_stack  # noqa: E402

FAKE = Path(__file__).with_name("fake_berth.py")
pytestmark = pytest.mark.requires("sshd")


@pytest.fixture
def fake(tmp_path: Path, sshd) -> dict[str, Any]:
    return {"connection": {"host": sshd.host, "port": sshd.port, "user": sshd.user,
                           "private_key": sshd.private_key, "host_key": sshd.host_pub},
            "engine": {"command": f"{sys.executable} -S {FAKE}", "root": str(tmp_path / "root")},
            "root": tmp_path / "root"}


def _db(fake: dict) -> dict:
    f = fake["root"] / "fake.json"
    return json.loads(f.read_text()) if f.exists() else {}


def _program(fake: dict, **kw: Any):
    def program() -> None:
        berth_stack.deploy(fake["connection"], engine=fake["engine"], base_image="berth-test/busybox:latest",
                           pull_base=False, **kw)
    return program


def test_lifecycle(fake) -> None:
    dep = Deployment()
    s = dep.preview(_program(fake))
    assert s.count("create") == 5 and not _db(fake), "preview must not act"
    s = dep.up(_program(fake))
    assert s.count("create") == 5, s.ops
    db = _db(fake)
    assert set(db["container"]) == {"demo-web", "demo-client-0"}
    web_id = db["container"]["demo-web"]["id"]
    web = dep.resource("demo-web")
    assert web.outputs["ports"] == {"80/tcp": [{"host_ip": "0.0.0.0", "host_port": 8080}]}
    assert web.outputs["ip_addresses"] == {"demo-net": "10.88.0.2"}
    assert dep.resource("demo-net").outputs["subnet"] == "10.77.0.0/24"
    assert "connection" in web.secret_inputs

    s = dep.up(_program(fake))  # identical: nothing changes, no SSH round trip per resource
    assert s.count("same") == 5 and len(s.ops) == 5, s.ops
    assert s.ssh_execs == 0

    saved = fake["root"].parent / "state.json"  # the state survives a new process
    dep.save(str(saved))
    assert saved.stat().st_mode & 0o077 == 0
    dep = Deployment.load(str(saved))
    assert dep.up(_program(fake)).count("same") == 5

    s = dep.up(_program(fake, restart_policy="always"))  # (the full sequence runs in tests/integration)
    assert s.of("demo-web") == ["update"] and s.of("demo-client-0") == ["update"]
    assert _db(fake)["container"]["demo-web"]["id"] == web_id  # in place

    dep.destroy()
    assert all(not v for v in _db(fake).values())
    assert dep.state == {}


def test_changed_context_rebuilds_and_replaces_the_container(fake, tmp_path: Path, monkeypatch) -> None:
    ctx = tmp_path / "web"
    shutil.copytree(berth_stack.WEB_CONTEXT, ctx)
    monkeypatch.setattr(berth_stack, "WEB_CONTEXT", ctx)
    dep = Deployment()
    dep.up(_program(fake))
    image_id = dep.resource("demo-web-image").outputs["image_id"]
    (ctx / "README.md").write_text("ignored by .dockerignore")
    s = dep.preview(_program(fake))
    assert s.of("demo-web-image") == ["same"] and s.of("demo-web") == ["same"]
    (ctx / "index.html").write_text("<h1>v2</h1>")
    s = dep.preview(_program(fake))  # preview shows the rebuild and the replacement, builds nothing
    assert s.of("demo-web-image") == ["update"] and s.of("demo-web") == ["replace"]
    assert _db(fake)["image"]["demo/web:1"]["id"] == image_id
    s = dep.up(_program(fake))
    assert s.of("demo-web-image") == ["update"] and s.of("demo-web") == ["replace"]
    assert dep.resource("demo-web-image").outputs["image_id"] != image_id
    assert _db(fake)["container"]["demo-web"]["spec"]["image"] == dep.resource("demo-web-image").outputs["image_id"]
    dep.destroy()


def test_example_program_with_stack_config(fake) -> None:
    """examples/pulumi/__main__.py as `pulumi up` runs it: configuration from the stack."""
    c = fake["connection"]
    pulumi.runtime.set_all_config({
        "berth-demo:host": c["host"], "berth-demo:port": str(c["port"]), "berth-demo:hostKey": c["host_key"],
        "berth-demo:privateKey": c["private_key"], "berth-demo:baseImage": "berth-test/busybox:latest",
        "berth-demo:engineCommand": fake["engine"]["command"], "berth-demo:engineRoot": fake["engine"]["root"],
    }, ["berth-demo:privateKey"])
    try:
        dep = Deployment(project="berth-demo")
        main = str(Path(berth_stack.__file__).with_name("__main__.py"))
        s = dep.up(lambda: runpy.run_path(main))
        assert s.count("create") == 6, s.ops  # with the RemoteImage of the base
        assert dep.resource("demo-base").outputs["repo_digest"].startswith("berth-test/busybox@sha256:")
        assert "connection" in dep.resource("demo-web").secret_inputs
        dep.destroy()
        assert all(not v for k, v in _db(fake).items() if k != "image")
    finally:
        pulumi.runtime.set_all_config({}, [])


def test_check_names_the_failing_property(fake) -> None:
    dep = Deployment()
    with pytest.raises(CheckFailed) as e:
        dep.up(_program(fake, restart_policy="sometimes"))
    assert e.value.failures[0][0] == "restart_policy"
    assert "sometimes" in e.value.failures[0][1]
    dep.destroy()


def test_refresh_shows_drift_then_up_repairs_it(fake) -> None:
    dep = Deployment()
    dep.up(_program(fake))
    spec_cmd = f"{sys.executable} -S {FAKE} --root {fake['root']} apply"
    req = {"api": 1, "kind": "container", "state": "stopped",
           "spec": {**_db(fake)["container"]["demo-web"]["spec"], "restart_policy": "no"}}
    subprocess.run(["true"])  # (the drift is made over SSH like an operator would)
    _ssh.run(_ssh.ConnSpec.from_input(fake["connection"]), spec_cmd, json.dumps(req).encode())
    s = dep.refresh()
    assert ("drift", "demo-web") in s.ops
    assert dep.resource("demo-web").inputs["restart_policy"] == "no"
    s = dep.up(_program(fake))
    assert s.of("demo-web") == ["update"]
    o = _db(fake)["container"]["demo-web"]
    assert o["spec"]["restart_policy"] == "unless-stopped" and o["state"] == "started"
    dep.destroy()
