"""--pid, --ipc and --uts as docker has them: the host's namespaces, or a running container's,
observed from inside the containers; bad modes change nothing."""

from __future__ import annotations

import os
import socket

import pytest

from tests.integration.containers.conftest import inspect, leftovers

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")
NONE = ("--network", "none")


def ns_of(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def test_pid_host_and_container(berth_host, busybox_image):
    h = berth_host
    # the host's PID namespace: this test's own process is visible, and the namespace is ours
    out = h.run("run", "--rm", *NONE, "--pid", "host", busybox_image, "sh", "-c",
                f"test -d /proc/{os.getpid()} && readlink /proc/self/ns/pid").stdout.strip()
    assert out == ns_of("self", "pid")
    # a namespace of its own by default: our process is not there
    p = h.run("run", "--rm", *NONE, busybox_image, "test", "-d", f"/proc/{os.getpid()}", check=False)
    assert p.returncode == 1
    h.run("run", "-d", *NONE, "--name", "pidtgt", busybox_image, "sleep", "300")
    tgt_pid = inspect(h, "pidtgt")["State"]["Pid"]
    out = h.run("run", "--rm", *NONE, "--pid", "container:pidtgt", busybox_image, "sh", "-c",
                "readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr '\\0' ' '").stdout.splitlines()
    assert out == [ns_of(tgt_pid, "pid"), "sleep 300 "]
    assert inspect(h, "pidtgt")["HostConfig"]["PidMode"] == ""
    # joining needs the target running, and existing
    h.run("create", *NONE, "--name", "joiner", "--pid", "container:pidtgt", busybox_image, "sleep", "300")
    h.run("stop", "-t", "0", "pidtgt")
    p = h.run("start", "joiner", check=False)
    assert p.returncode == 1 and "PidMode" in p.stderr and "pidtgt" in p.stderr and "not running" in p.stderr
    assert inspect(h, "joiner")["State"]["Status"] == "created"
    h.run("start", "pidtgt")
    h.run("start", "joiner")
    assert inspect(h, "joiner")["HostConfig"]["PidMode"] == "container:pidtgt"
    assert ns_of(inspect(h, "joiner")["State"]["Pid"], "pid") == ns_of(inspect(h, "pidtgt")["State"]["Pid"], "pid")
    before = h.json("ls", "container")
    p = h.run("run", "--rm", *NONE, "--pid", "container:nope", busybox_image, "true", check=False)
    assert p.returncode == 3 and "PidMode" in p.stderr and "nope" in p.stderr
    p = h.run("run", "--rm", *NONE, "--pid", "private-ish", busybox_image, "true", check=False)
    assert p.returncode == 2 and "PidMode" in p.stderr and "private-ish" in p.stderr
    assert h.json("ls", "container") == before
    h.run("rm", "-f", "joiner", "pidtgt")
    assert leftovers(h) == []


def test_ipc_shareable_container_host_none(berth_host, busybox_image):
    h = berth_host
    h.run("run", "-d", *NONE, "--name", "shm-owner", "--ipc", "shareable", "--shm-size", "8m", busybox_image,
          "sh", "-c", "echo from-owner > /dev/shm/note; sleep 300")
    owner = inspect(h, "shm-owner")
    assert owner["HostConfig"]["IpcMode"] == "shareable"
    out = h.run("run", "--rm", *NONE, "--ipc", "container:shm-owner", busybox_image, "sh", "-c",
                "readlink /proc/self/ns/ipc; cat /dev/shm/note; df -k /dev/shm | tail -1; "
                "echo from-joiner > /dev/shm/reply").stdout.splitlines()
    assert out[0] == ns_of(owner["State"]["Pid"], "ipc") and out[1] == "from-owner"
    assert out[2].split()[1] == "8192"  # the owner's --shm-size
    assert h.run("exec", "shm-owner", "cat", "/dev/shm/reply").stdout == "from-joiner\n"
    # a private one (the default) cannot be joined, as in docker
    h.run("run", "-d", *NONE, "--name", "shm-private", busybox_image, "sleep", "300")
    assert inspect(h, "shm-private")["HostConfig"]["IpcMode"] == "private"
    before = h.json("ls", "container")
    p = h.run("run", "--rm", *NONE, "--ipc", "container:shm-private", busybox_image, "true", check=False)
    assert p.returncode == 1 and "IpcMode" in p.stderr and "shareable" in p.stderr
    assert h.json("ls", "container") == before
    # host: the host's IPC namespace and /dev/shm
    marker = f"berth-test-{os.getpid()}"
    with open(f"/dev/shm/{marker}", "w") as f:
        f.write("host\n")
    try:
        out = h.run("run", "--rm", *NONE, "--ipc", "host", busybox_image, "sh", "-c",
                    f"readlink /proc/self/ns/ipc; cat /dev/shm/{marker}").stdout.splitlines()
        assert out == [ns_of("self", "ipc"), "host"]
    finally:
        os.unlink(f"/dev/shm/{marker}")
    # none: an IPC namespace of its own and no /dev/shm at all
    out = h.run("run", "--rm", *NONE, "--ipc", "none", busybox_image, "sh", "-c",
                "readlink /proc/self/ns/ipc; grep -c ' /dev/shm ' /proc/self/mountinfo || true").stdout.splitlines()
    assert out[0] != ns_of("self", "ipc") and out[1] == "0"
    # the shared /dev/shm lives while its owner runs, and goes with it
    shm = h.runroot / "shm" / owner["Id"]
    assert os.path.ismount(shm)
    h.run("stop", "-t", "1", "shm-owner")
    assert not shm.exists()
    h.run("rm", "-f", "shm-owner", "shm-private")
    assert leftovers(h) == []


def test_uts_host(berth_host, busybox_image):
    h = berth_host
    out = h.run("run", "--rm", *NONE, "--uts", "host", busybox_image, "sh", "-c",
                "hostname; readlink /proc/self/ns/uts; echo $HOSTNAME").stdout.splitlines()
    assert out == [socket.gethostname(), ns_of("self", "uts"), socket.gethostname()]
    p = h.run("run", "--rm", *NONE, "--uts", "host", "--hostname", "other", busybox_image, "true", check=False)
    assert p.returncode == 2 and "Hostname" in p.stderr and "UTS" in p.stderr
    p = h.run("run", "--rm", *NONE, "--uts", "container:x", busybox_image, "true", check=False)
    assert p.returncode == 2 and "UTSMode" in p.stderr
