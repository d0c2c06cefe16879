"""The no-op memo of `berth apply` (engine/apply/memo.py) on the real engine: a steady-state
rerun answers from the memo (same result, no pydantic), and every change made behind its back
(stopped container, tag moved to another image, network disconnected, spec, config file, an
env_file's content) still reaches the full reconcile."""

import os

import pytest

from tests.fixtures.images import import_into

from .helpers import ok, plan, request

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "nft")

NOOP = {"changed": False, "actions": [], "diff": {"before": {}, "after": {}}}


def memo_file(host, kind, name):
    return host.runroot / "apply-memo" / f"apply-{kind}-{name}.json"


def apply_traced(host, req):
    """apply, also telling whether pydantic (the full reconcile's validation) was imported."""
    import json

    p = host.run("apply", input=json.dumps(req), check=False, env={"PYTHONPROFILEIMPORTTIME": "1"})
    return p.returncode, json.loads(p.stdout), "pydantic" in p.stderr


def settle(host, req):
    """Converge; a changing run is followed by the full no-op run that writes the memo. Return
    the no-op run's result."""
    out = ok(host, req)
    if out["changed"]:
        rc, out, full = apply_traced(host, req)
        assert rc == 0 and plan(out) == NOOP and full, out
    return out


def test_noop_rerun_answers_from_the_memo(berth_host, busybox_image):
    req = request("container", {"name": "memo", "image": busybox_image, "command": "sleep 300",
                                "network_mode": "none", "memory": "32m", "labels": {"a": "b"}})
    noop = settle(berth_host, req)
    memo = memo_file(berth_host, "container", "memo")
    st = memo.stat()
    assert st.st_mode & 0o777 == 0o600
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and not full, "a steady-state rerun still ran the full reconcile"
    assert out == noop
    assert memo.stat().st_ino == st.st_ino  # a hit leaves the memo as it was

    # check mode never answers from the memo, and agrees with it
    rc, out, full = apply_traced(berth_host, {**req, "check": True})
    assert rc == 0 and full and plan(out) == NOOP

    # stopped behind apply's back: the full reconcile starts it again
    berth_host.run("stop", "-t", "0", "memo")
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and full and out["actions"] == ["started"], out
    assert not memo.exists()  # a changing run leaves no memo behind
    settle(berth_host, req)

    # a changed spec is another request
    rc, out, full = apply_traced(berth_host, request("container", {**req["spec"], "memory": "48m"}))
    assert rc == 0 and full and out["actions"] == ["updated"], out
    settle(berth_host, req)

    # the config file is part of the key
    berth_host.write_config("# edited\n")
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and full and plan(out) == NOOP

    # state absent is its own request and removes the container
    rc, out, full = apply_traced(berth_host, {**req, "state": "absent"})
    assert rc == 0 and out["actions"] == ["removed"]
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and full and out["actions"] == ["created", "started"]


def test_tag_moved_to_a_new_image_recreates(berth_host, busybox_image, busybox_rootfs):
    req = request("container", {"name": "tagged", "image": busybox_image, "command": "sleep 300",
                                "network_mode": "none"})
    first = settle(berth_host, req)
    import_into(berth_host, busybox_rootfs, busybox_image, ['CMD ["sh", "-c", "true"]'])
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and full and out["actions"] == ["recreated", "started"], out
    assert out["resource"]["Image"] != first["resource"]["Image"]


def test_network_disconnected_behind_its_back_is_reconnected(berth_host, busybox_image):
    ok(berth_host, request("network", {"name": "memonet"}))
    net = settle(berth_host, request("network", {"name": "memonet"}))
    req = request("container", {"name": "joined", "image": busybox_image, "command": "sleep 300",
                                "networks": [{"name": "memonet", "aliases": ["j"]}]})
    settle(berth_host, req)
    # the network's own memo: the container joining changed what its read returns
    rc, out, full = apply_traced(berth_host, request("network", {"name": "memonet"}))
    assert rc == 0 and full and plan(out) == NOOP and out["resource"] != net["resource"]
    rc, out, full = apply_traced(berth_host, request("network", {"name": "memonet"}))
    assert rc == 0 and not full and plan(out) == NOOP

    berth_host.run("network", "disconnect", "memonet", "joined")
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and full and out["changed"], out
    live = berth_host.json("inspect", "joined")[0]
    assert "j" in live["NetworkSettings"]["Networks"]["memonet"]["Aliases"]
    ok(berth_host, {**req, "state": "absent"})
    ok(berth_host, request("network", {"name": "memonet"}, "absent"))


def test_env_file_is_read_on_every_run(berth_host, busybox_image):
    env_file = berth_host.base / "app.env"
    env_file.write_text("MODE=one\n")
    req = request("container", {"name": "envf", "image": busybox_image, "command": "sleep 300",
                                "network_mode": "none", "env_file": str(env_file)})
    ok(berth_host, req)
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and plan(out) == NOOP and full
    assert not memo_file(berth_host, "container", "envf").exists()
    env_file.write_text("MODE=two\n")
    os.utime(env_file)
    rc, out, full = apply_traced(berth_host, req)
    assert rc == 0 and full and out["actions"] == ["recreated", "started"], out
    assert "MODE=two" in out["resource"]["Config"]["Env"]
