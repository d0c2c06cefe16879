"""Docker's security defaults and resource limits, observed from inside the container."""

from __future__ import annotations

import pytest

from tests.integration.containers.conftest import inspect

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")
NONE = ("--network", "none")
DEFAULT_CAPEFF = 0x00000000a80425fb  # Docker's default capability set


def status(host, image, *flags):  # type: ignore[no-untyped-def]
    out = host.run("run", "--rm", *NONE, *flags, image, "cat", "/proc/self/status").stdout
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def test_default_caps_seccomp_nnp(berth_host, busybox_image):
    st = status(berth_host, busybox_image)
    assert int(st["CapEff"], 16) == DEFAULT_CAPEFF
    assert int(st["CapBnd"], 16) == DEFAULT_CAPEFF
    assert st["Seccomp"].strip() == "2"
    assert st["NoNewPrivs"].strip() == "0"


def test_cap_add_drop_and_options(berth_host, busybox_image):
    st = status(berth_host, busybox_image, "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
                "--security-opt", "no-new-privileges", "--security-opt", "seccomp=unconfined")
    eff = int(st["CapEff"], 16)
    assert eff & (1 << 12) and not eff & 1  # NET_ADMIN added, CHOWN dropped
    assert st["NoNewPrivs"].strip() == "1" and st["Seccomp"].strip() == "0"


def test_privileged(berth_host, busybox_image):
    st = status(berth_host, busybox_image, "--privileged")
    assert int(st["CapEff"], 16) & (1 << 21)  # CAP_SYS_ADMIN
    assert st["Seccomp"].strip() == "0"


def test_masked_and_readonly_paths(berth_host, busybox_image):
    out = berth_host.run("run", "--rm", *NONE, busybox_image, "sh", "-c",
                         "cat /proc/timer_list | wc -c; "
                         "echo 1 > /proc/sys/kernel/shmmax 2>/dev/null && echo sys-rw || echo sys-ro").stdout.split()
    assert out == ["0", "sys-ro"]


def test_read_only_rootfs(berth_host, busybox_image):
    p = berth_host.run("run", "--rm", *NONE, "--read-only", "--tmpfs", "/tmp", busybox_image, "sh", "-c",
                       "touch /x 2>/dev/null && echo root-rw || echo root-ro; touch /tmp/x && echo tmp-rw")
    assert p.stdout.split() == ["root-ro", "tmp-rw"]


def test_memory_limit_oom_gives_137(berth_host, busybox_image):
    p = berth_host.run("run", *NONE, "--name", "oom", "-m", "16m", "--memory-swap", "16m", busybox_image,
                       "sh", "-c", "x=a; while true; do x=$x$x; done", check=False)
    assert p.returncode == 137
    st = inspect(berth_host, "oom")["State"]
    assert st["ExitCode"] == 137 and st["OOMKilled"] is True


def test_pids_limit(berth_host, busybox_image):
    p = berth_host.run("run", "--rm", *NONE, "--pids-limit", "8", busybox_image, "sh", "-c",
                       "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done", check=False)
    assert "can't fork" in p.stderr
    p = berth_host.run("run", "--rm", *NONE, "--pids-limit", "20", busybox_image, "sh", "-c",
                       "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done", check=False)
    assert p.returncode == 0 and p.stderr == ""


def test_ulimit_clamped_with_warning_and_sysctl(berth_host, busybox_image):
    p = berth_host.run("run", "--rm", *NONE, "--ulimit", "nofile=999999999:999999999",
                       "--sysctl", "kernel.shmmax=123456", busybox_image, "sh", "-c",
                       "ulimit -n; cat /proc/sys/kernel/shmmax")
    lines = p.stdout.split()
    import resource

    assert int(lines[0]) == resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert lines[1] == "123456"
    assert "WARNING" in p.stderr and "nofile" in p.stderr
    p = berth_host.run("run", "--rm", *NONE, "--sysctl", "vm.swappiness=1", busybox_image, "true", check=False)
    assert p.returncode == 2 and "Sysctls" in p.stderr and "vm.swappiness" in p.stderr


def test_shm_size_and_device(berth_host, busybox_image):
    out = berth_host.run("run", "--rm", *NONE, "--shm-size", "2m", "--device", "/dev/null:/dev/mynull",
                         busybox_image, "sh", "-c", "df -k /dev/shm | tail -1; echo x > /dev/mynull && echo dev-ok"
                         ).stdout
    assert " 2048 " in out and "dev-ok" in out
