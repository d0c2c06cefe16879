"""Restart policies, restore after a reboot, healthchecks: the monitor outlives berth."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from tests.integration.containers.conftest import inspect, leftovers, wait_for

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")
NONE = ("--network", "none")


def kill_container_process(host, name: str) -> int:  # type: ignore[no-untyped-def]
    pid = inspect(host, name)["State"]["Pid"]
    os.kill(pid, signal.SIGKILL)
    return pid


@pytest.mark.parametrize("policy", ["always", "unless-stopped"])
def test_restart_always_after_kill(berth_host, busybox_image, policy):
    berth_host.run("run", "-d", *NONE, "--name", "al", "--restart", policy, busybox_image, "sleep", "600")
    old = kill_container_process(berth_host, "al")
    d = wait_for(lambda: (lambda d: d if d["RestartCount"] == 1 and d["State"]["Running"] else None)(
        inspect(berth_host, "al")))
    assert d["State"]["Pid"] != old
    # a user's stop is never undone by the policy
    berth_host.run("stop", "-t", "0", "al")
    st = inspect(berth_host, "al")
    assert not st["State"]["Running"] and st["RestartCount"] == 1
    assert not inspect(berth_host, "al")["State"]["Running"]
    # a user's start resets the count (dockerd does too)
    berth_host.run("start", "al")
    assert inspect(berth_host, "al")["RestartCount"] == 0


def test_on_failure_max_retries(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "of", "--restart", "on-failure:2", busybox_image,
                   "sh", "-c", "exit 3")
    d = wait_for(lambda: (lambda d: d if d["RestartCount"] == 2 and d["State"]["Status"] == "exited" else None)(
        inspect(berth_host, "of")), timeout=20)
    assert d["State"]["ExitCode"] == 3
    assert berth_host.run("logs", "of").stdout == ""


def test_on_failure_not_on_success_and_no_policy(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "ok", "--restart", "on-failure", busybox_image, "true")
    berth_host.run("run", "-d", *NONE, "--name", "np", busybox_image, "sleep", "600")
    kill_container_process(berth_host, "np")
    assert berth_host.run("wait", "ok").stdout.strip() == "0"
    assert berth_host.run("wait", "np").stdout.strip() == "137"
    assert inspect(berth_host, "ok")["RestartCount"] == 0 and inspect(berth_host, "np")["RestartCount"] == 0


def test_auto_remove_detached(berth_host, busybox_image):
    berth_host.run("run", "-d", "--rm", *NONE, "--name", "gone", busybox_image, "true")
    wait_for(lambda: berth_host.run("ps", "-aq").stdout == "")
    assert leftovers(berth_host) == []


def test_restore_after_simulated_reboot(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "always1", "--restart", "always", busybox_image, "sleep", "600")
    berth_host.run("run", "-d", *NONE, "--name", "unless1", "--restart", "unless-stopped", busybox_image,
                   "sleep", "600")
    berth_host.run("run", "-d", *NONE, "--name", "unless2", "--restart", "unless-stopped", busybox_image,
                   "sleep", "600")
    berth_host.run("run", "-d", *NONE, "--name", "plain", busybox_image, "sleep", "600")
    berth_host.run("stop", "-t", "0", "unless2")
    # "reboot": every monitor, berth helper and container process dies at once (monitors
    # first, so no exit command gets to apply a restart policy), mounts go, the runroot is cleared
    pids = [inspect(berth_host, name)["State"]["Pid"] for name in ("always1", "unless1", "plain")]
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                continue
            if str(berth_host.runroot).encode() in cmd:
                os.kill(int(pid), signal.SIGKILL)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    with open("/proc/self/mountinfo") as f:
        mps = [ln.split()[4] for ln in f if ln.split()[4].startswith(str(berth_host.base))]
    for mp in sorted(mps, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], check=False)
    subprocess.run(["runc", "--root", str(berth_host.runroot / "runc"), "list"], capture_output=True)
    for cid in os.listdir(berth_host.root / "containers"):
        subprocess.run(["runc", "--root", str(berth_host.runroot / "runc"), "delete", "-f", cid],
                       capture_output=True)
    shutil.rmtree(berth_host.runroot)
    berth_host.runroot.mkdir()
    out = berth_host.run("restore").stdout.split()
    assert sorted(out) == ["always1", "unless1"]
    assert inspect(berth_host, "always1")["State"]["Running"]
    assert inspect(berth_host, "unless1")["State"]["Running"]
    assert not inspect(berth_host, "unless2")["State"]["Running"]
    plain = inspect(berth_host, "plain")["State"]
    assert not plain["Running"] and plain["Status"] == "exited"
    assert berth_host.run("exec", "always1", "true", check=False).returncode == 0


def test_healthcheck_transitions(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "hc", "--health-cmd", "test -f /tmp/ok",
                   "--health-interval", "200ms", "--health-retries", "2", busybox_image, "sleep", "600")
    assert inspect(berth_host, "hc")["State"]["Health"]["Status"] == "starting"
    assert "health: starting" in berth_host.run("ps").stdout or "healthy" in berth_host.run("ps").stdout
    h = wait_for(lambda: (lambda h: h if h["Status"] == "unhealthy" else None)(
        inspect(berth_host, "hc")["State"]["Health"]))
    assert h["FailingStreak"] >= 2 and h["Log"][-1]["ExitCode"] == 1
    berth_host.run("exec", "hc", "touch", "/tmp/ok")
    h = wait_for(lambda: (lambda h: h if h["Status"] == "healthy" else None)(
        inspect(berth_host, "hc")["State"]["Health"]))
    assert h["FailingStreak"] == 0 and h["Log"][-1]["ExitCode"] == 0 and len(h["Log"]) <= 5
    assert berth_host.run("ps", "-q", "--filter", "health=healthy").stdout.strip()
    berth_host.run("rm", "-f", "hc")
    assert leftovers(berth_host) == []


def test_run_rm_client_killed_container_still_removed(berth_host, busybox_image):
    """The container outlives a killed foreground client, and --rm still removes it at exit."""
    p = subprocess.Popen([*berth_host.argv, "run", "--rm", *NONE, "--name", "orphan", busybox_image,
                          "sh", "-c", "sleep 4"], env=berth_host.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_for(lambda: berth_host.run("ps", "-q").stdout.strip())
    p.kill()
    p.wait()
    assert berth_host.run("ps", "-q", "--filter", "name=orphan").stdout.strip()  # still running
    wait_for(lambda: berth_host.run("ps", "-aq").stdout == "", timeout=20)
    assert leftovers(berth_host) == []


def test_monitor_and_health_loop_in_their_own_systemd_scopes(berth_host, busybox_image, tmp_path):
    """With systemd_scopes on, the monitor and the health loop start through `systemd-run
    --scope` (each in a scope of its own, so they outlive the caller's unit). systemd is not the
    init on the test machines, so a stand-in systemd-run records its arguments and runs the
    command the way the real one does (exec, same pid, file descriptors kept)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "systemd-run.log"
    (fake / "systemd-run").write_text(f'#!/bin/sh\necho "$*" >> {log}\n'
                                      'while [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
    (fake / "systemd-run").chmod(0o755)
    berth_host.write_config('systemd_scopes = "yes"\n')
    env = {"PATH": f"{fake}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    cid = berth_host.run("run", "-d", *NONE, "--name", "sc", "--restart", "always", "--health-cmd", "true",
                         "--health-interval", "200ms", busybox_image, "sleep", "600", env=env).stdout.strip()
    calls = log.read_text().splitlines()
    assert len(calls) == 2 and all(c.startswith("--scope --quiet --collect --unit=berth-") for c in calls)
    assert f"--unit=berth-conmon-{cid[:12]}-" in calls[0] and " -- " in calls[0] and "conmon" in calls[0]
    assert f"--unit=berth-health-{cid[:12]}-" in calls[1] and f"_health {cid} 1" in calls[1]
    wait_for(lambda: inspect(berth_host, "sc")["State"]["Health"]["Status"] == "healthy")
    # the restart policy (run from the monitor's exit command) starts the next monitor the same way
    kill_container_process(berth_host, "sc")
    wait_for(lambda: (lambda d: d["RestartCount"] == 1 and d["State"]["Running"])(inspect(berth_host, "sc")))
    units = [c.split("--unit=")[1].split()[0] for c in log.read_text().splitlines()]
    assert len(units) == 4 and len(set(units)) == 4
    berth_host.run("rm", "-f", "sc", env=env)
    assert leftovers(berth_host) == []


def test_image_healthcheck_and_overrides(berth_host, busybox_image, tmp_path):
    """The image's HEALTHCHECK runs on schedule; --health-* options override parts of it and
    --no-healthcheck turns it off."""
    (tmp_path / "Dockerfile").write_text(f"FROM {busybox_image}\n"
                                         "HEALTHCHECK --interval=1h --retries=1 CMD test -f /tmp/ok\n"
                                         'CMD ["sleep", "600"]\n')
    berth_host.run("build", "-q", "-t", "berth-test/hc:1", str(tmp_path))
    berth_host.run("run", "-d", *NONE, "--name", "ih", "--health-interval", "200ms", "berth-test/hc:1")
    d = inspect(berth_host, "ih")
    assert d["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "test -f /tmp/ok"]
    assert d["Config"]["Healthcheck"]["Interval"] == 200_000_000 and d["State"]["Health"]["Status"] == "starting"
    h = wait_for(lambda: (lambda h: h if h["Status"] == "unhealthy" else None)(inspect(berth_host, "ih")["State"]["Health"]))
    assert h["FailingStreak"] >= 1
    berth_host.run("exec", "ih", "touch", "/tmp/ok")
    wait_for(lambda: inspect(berth_host, "ih")["State"]["Health"]["Status"] == "healthy")
    berth_host.run("run", "-d", *NONE, "--name", "nh", "--no-healthcheck", "berth-test/hc:1")
    assert "Health" not in inspect(berth_host, "nh")["State"]
    berth_host.run("rm", "-f", "ih", "nh")
    assert leftovers(berth_host) == []


def test_wait_returns_on_a_stop_the_policy_undoes(berth_host, busybox_image):
    """Like docker wait: the exit code of the next stop, even when `always` restarts it."""
    berth_host.run("run", "-d", *NONE, "--name", "wa", "--restart", "always", busybox_image, "sh", "-c",
                   "sleep 0.5; exit 3")
    assert berth_host.run("wait", "wa", timeout=60).stdout.strip() == "3"
    wait_for(lambda: inspect(berth_host, "wa")["RestartCount"] >= 1)
    berth_host.run("rm", "-f", "wa")
