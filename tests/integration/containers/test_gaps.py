"""exec with stdin, --volumes-from, rm -f of a container whose start was cut short, the image
name as given, honest log configuration; on real runc + conmon."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.integration.containers.conftest import cgroup_exists, inspect, leftovers, records

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")
NONE = ("--network", "none")


def test_exec_stdin_cli_and_api(berth_host, busybox_image):
    from engine.containers import api
    from engine.context import Context

    berth_host.run("run", "-d", *NONE, "--name", "ex", busybox_image, "sleep", "300")
    p = berth_host.run("exec", "-i", "ex", "sh", "-c", "cat; echo .", input="piped\n")
    assert p.stdout == "piped\n.\n"
    ctx = Context.from_env(str(berth_host.root), str(berth_host.runroot), str(berth_host.config))
    rc, out, err = api.exec_run(ctx, "ex", ["sh", "-c", "wc -c; cat >&2"], input=b"abcd", capture=True)
    assert (rc, out.strip(), err) == (0, b"4", b"")
    berth_host.run("rm", "-f", "ex")


def test_volumes_from(berth_host, busybox_image, tmp_path):
    (tmp_path / "hostdir").mkdir()
    berth_host.run("create", *NONE, "--name", "src", "-v", "vfdata:/data", "-v", f"{tmp_path / 'hostdir'}:/bind",
                   "-v", "/anon", busybox_image, "true")
    p = berth_host.run("run", *NONE, "--name", "user", "--volumes-from", "src", busybox_image, "sh", "-c",
                       "echo v > /data/f && echo b > /bind/f && echo a > /anon/f && echo ok", check=False)
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr
    assert (tmp_path / "hostdir" / "f").read_text() == "b\n"
    # read-only override; the data is the source's (same volumes)
    p = berth_host.run("run", "--rm", *NONE, "--volumes-from", "src:ro", busybox_image, "sh", "-c",
                       "cat /data/f /anon/f; echo x > /data/g", check=False)
    assert p.returncode != 0 and p.stdout == "v\na\n" and "Read-only" in p.stderr
    mounts = {m["Destination"]: m for m in inspect(berth_host, "user")["Mounts"]}
    src = {m["Destination"]: m for m in inspect(berth_host, "src")["Mounts"]}
    assert mounts["/data"]["Name"] == "vfdata" and mounts["/anon"]["Name"] == src["/anon"]["Name"]
    assert mounts["/bind"]["Source"] == str(tmp_path / "hostdir")
    assert inspect(berth_host, "user")["HostConfig"]["VolumesFrom"] == ["src"]
    p = berth_host.run("create", *NONE, "--volumes-from", "ghost", busybox_image, check=False)
    assert p.returncode != 0 and "VolumesFrom" in p.stderr and "ghost" in p.stderr
    p = berth_host.run("create", *NONE, "--volumes-from", "src:bogus", busybox_image, check=False)
    assert p.returncode != 0 and "VolumesFrom" in p.stderr
    # removing the user with -v keeps the source's anonymous volume
    berth_host.run("rm", "-v", "user")
    assert src["/anon"]["Name"] in berth_host.run("volume", "ls", "-q").stdout.split()
    berth_host.run("rm", "-v", "src")
    berth_host.run("volume", "rm", "vfdata")
    assert leftovers(berth_host) == []


@pytest.mark.parametrize("how", ["conmon", "runc-state"])
def test_rm_force_of_a_start_cut_short(berth_host, busybox_image, how):
    cid = berth_host.run("create", *NONE, "--name", "stuck", busybox_image, "sleep", "300").stdout.strip()
    rec_path = berth_host.root / "containers" / cid / "container.json"
    saved = rec_path.read_text()
    berth_host.run("start", "stuck")
    rec = json.loads(rec_path.read_text())
    conmon_pid = rec["_berth"]["conmon_pid"]
    rec_path.write_text(saved)  # the record as a start killed before saving it left it
    if how == "conmon":
        os.kill(conmon_pid, signal.SIGKILL)
    else:
        import shutil

        shutil.rmtree(berth_host.runroot / "runc" / cid)
    assert inspect(berth_host, "stuck")["State"]["Status"] == "created"
    t = time.monotonic()
    berth_host.run("rm", "-f", "stuck", timeout=30)
    assert time.monotonic() - t < 15
    assert records(berth_host) == [] and not cgroup_exists(cid)
    assert leftovers(berth_host) == []
    assert not any("sleep 300" in _cmdline(p) for p in _pids_of(cid))


def _pids_of(cid: str) -> list[int]:
    out = []
    for p in Path("/sys/fs/cgroup").glob(f"*/berth/{cid}/cgroup.procs"):
        out += [int(x) for x in p.read_text().split()]
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_image_name_as_given_and_log_config(berth_host, busybox_image):
    short = busybox_image.rsplit(":", 1)[0]  # berth-test/busybox, without the tag
    berth_host.run("create", *NONE, "--name", "nm", "--log-driver", "json-file", "--log-opt", "max-size=1m",
                   short, "true")
    d = inspect(berth_host, "nm")
    assert d["Config"]["Image"] == short and d["Image"].startswith("sha256:")
    assert berth_host.run("ps", "-a", "--format", "{{.Image}}").stdout == short + "\n"
    assert d["HostConfig"]["LogConfig"] == {"Type": "k8s-file", "Config": {"max-size": "1m"}}
    for opt, word in (("max-file=3", "max-file"), ("tag=x", "tag"), ("compress=true", "compress")):
        p = berth_host.run("create", *NONE, "--log-opt", opt, busybox_image, check=False)
        assert p.returncode != 0 and word in p.stderr and "not supported" in p.stderr, p.stderr
    p = berth_host.run("create", *NONE, "--log-driver", "syslog", busybox_image, check=False)
    assert p.returncode != 0 and "syslog" in p.stderr
    assert records(berth_host) == [inspect(berth_host, "nm")["Id"]]
    berth_host.run("rm", "nm")
