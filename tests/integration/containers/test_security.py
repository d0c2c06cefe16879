"""Docker's security defaults and resource limits, observed from inside the container."""

from __future__ import annotations

from pathlib import Path

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


def _cgroup_value(cid: str, v1: str, v2: str, rel: str = "") -> str:
    """A cgroup file of the container, read on the host: `v1` as 'controller/file', `v2` a file
    name; `rel` the cgroup's path when it is not berth/<id>."""
    rel = rel or f"berth/{cid}"
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return Path(f"/sys/fs/cgroup/{rel}/{v2}").read_text().strip()
    ctrl, name = v1.split("/")
    return Path(f"/sys/fs/cgroup/{ctrl}/{rel}/{name}").read_text().strip()


def test_limits_reach_the_cgroup(berth_host, busybox_image):
    """memory, swap, reservation, cpus, shares, cpuset, pids and blkio weight, read back from the
    cgroup files (v1 or v2, whichever the host has); a weight the kernel cannot apply is
    discarded with a warning, like dockerd does."""
    import os

    from engine.containers import spec

    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    p = berth_host.run("run", "-d", *NONE, "--name", "lim", "-m", "32m", "--memory-swap", "64m",
                       "--memory-reservation", "16m", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
                       "--pids-limit", "33", "--blkio-weight", "300", busybox_image, "sleep", "600")
    cid = p.stdout.strip()
    assert _cgroup_value(cid, "memory/memory.limit_in_bytes", "memory.max") == str(32 << 20)
    if spec.host_swap_limit(v2):
        # v1 limits memory+swap together; v2 limits swap alone
        want = str(64 << 20) if not v2 else str(32 << 20)
        assert _cgroup_value(cid, "memory/memory.memsw.limit_in_bytes", "memory.swap.max") == want
    assert _cgroup_value(cid, "memory/memory.soft_limit_in_bytes", "memory.low") == str(16 << 20)
    if v2:
        assert _cgroup_value(cid, "", "cpu.max") == "50000 100000"
    else:
        assert _cgroup_value(cid, "cpu/cpu.cfs_quota_us", "") == "50000"
        assert _cgroup_value(cid, "cpu/cpu.cfs_period_us", "") == "100000"
        assert _cgroup_value(cid, "cpu/cpu.shares", "") == "512"
    assert _cgroup_value(cid, "cpuset/cpuset.cpus", "cpuset.cpus") == "0"
    assert _cgroup_value(cid, "pids/pids.max", "pids.max") == "33"
    if spec.host_blkio_weight(v2):
        assert p.stderr == ""
    else:
        assert "Block I/O weight" in p.stderr and "discarded" in p.stderr
    assert inspect(berth_host, "lim")["HostConfig"]["BlkioWeight"] == 300
    berth_host.run("rm", "-f", "lim")


def test_swappiness_oom_killer_device_rules_and_cgroupns(berth_host, busybox_image):
    """--memory-swappiness, --oom-kill-disable (cgroup v1 knobs: discarded with docker's warning
    on v2), --device-cgroup-rule (the device opens inside the container) and --cgroupns."""
    import os

    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    p = berth_host.run("run", "-d", *NONE, "--name", "cg", "-m", "32m", "--memory-swappiness", "7",
                       "--oom-kill-disable", "--device-cgroup-rule", "b 7:0 r", "--cgroupns", "private",
                       busybox_image, "sleep", "600")
    cid = p.stdout.strip()
    if v2:
        assert "swappiness" in p.stderr and "OOM killer" in p.stderr
    else:
        assert p.stderr == ""
        assert _cgroup_value(cid, "memory/memory.swappiness", "") == "7"
        assert "oom_kill_disable 1" in _cgroup_value(cid, "memory/memory.oom_control", "")
    # 7:0 is the first loop device: with the rule a node made inside opens; without it, it does not
    make = "mknod /tmp/l b 7 0 && dd if=/tmp/l of=/dev/null count=0 2>/dev/null && echo opened"
    assert berth_host.run("exec", "cg", "sh", "-c", make).stdout == "opened\n"
    other = berth_host.run("run", "--rm", *NONE, busybox_image, "sh", "-c", make.replace(" 2>/dev/null", ""),
                           check=False)
    assert other.returncode != 0 and "not permitted" in other.stderr
    pid = inspect(berth_host, "cg")["State"]["Pid"]
    assert os.readlink(f"/proc/{pid}/ns/cgroup") != os.readlink("/proc/self/ns/cgroup")
    hc = inspect(berth_host, "cg")["HostConfig"]
    assert (hc["MemorySwappiness"], hc["OomKillDisable"], hc["DeviceCgroupRules"], hc["CgroupnsMode"]) == \
        (7, True, ["b 7:0 r"], "private")
    p = berth_host.run("run", "-d", *NONE, "--cgroupns", "host", busybox_image, "sleep", "600")
    pid = inspect(berth_host, p.stdout.strip())["State"]["Pid"]
    assert os.readlink(f"/proc/{pid}/ns/cgroup") == os.readlink("/proc/self/ns/cgroup")
    berth_host.run("rm", "-f", "cg", p.stdout.strip())
    bad = berth_host.run("run", "--rm", *NONE, "--device-cgroup-rule", "c 1:9", busybox_image, "true", check=False)
    assert bad.returncode == 2 and "DeviceCgroupRules" in bad.stderr and "'c 1:9'" in bad.stderr
    assert berth_host.json("ls", "container") == []


def test_block_io_throttles_reach_the_cgroup(berth_host, busybox_image):
    """--device-read-bps and --device-write-iops on a real block device: the kernel's throttle
    files list it; a path that is not a block device is refused before anything is made."""
    import os

    disks = [d for d in sorted(os.listdir("/sys/block")) if not d.startswith(("loop", "ram", "zram"))]
    dev = f"/dev/{disks[0]}"
    st = os.stat(dev)
    mm = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    cid = berth_host.run("run", "-d", *NONE, "--device-read-bps", f"{dev}:1mb", "--device-write-iops", f"{dev}:100",
                         busybox_image, "sleep", "600").stdout.strip()
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        line = _cgroup_value(cid, "", "io.max")
        assert line.startswith(mm) and "rbps=1048576" in line and "wiops=100" in line
    else:
        assert _cgroup_value(cid, "blkio/blkio.throttle.read_bps_device", "") == f"{mm} 1048576"
        assert _cgroup_value(cid, "blkio/blkio.throttle.write_iops_device", "") == f"{mm} 100"
    berth_host.run("rm", "-f", cid)
    p = berth_host.run("run", "--rm", *NONE, "--device-read-bps", "/dev/null:1mb", busybox_image, "true",
                       check=False)
    assert p.returncode == 2 and "BlkioDeviceReadBps" in p.stderr and "/dev/null" in p.stderr
    assert berth_host.json("ls", "container") == []


def test_cgroup_parent(berth_host, busybox_image):
    """--cgroup-parent: the container's cgroup is PARENT/<id> in every hierarchy, and goes with it."""
    import os

    parent = f"berth-test-cgp-{os.getpid()}/batch"
    cid = berth_host.run("run", "-d", *NONE, "--cgroup-parent", "/" + parent, "-m", "32m", busybox_image,
                         "sleep", "600").stdout.strip()
    try:
        pid = inspect(berth_host, cid)["State"]["Pid"]
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        mem = next(ln for ln in lines if ln.split(":")[1] in ("memory", ""))
        assert mem.split(":", 2)[2] == f"/{parent}/{cid}"
        assert _cgroup_value(cid, "memory/memory.limit_in_bytes", "memory.max", f"{parent}/{cid}") == str(32 << 20)
        assert inspect(berth_host, cid)["HostConfig"]["CgroupParent"] == "/" + parent
        berth_host.run("rm", "-f", cid)
        assert not list(Path("/sys/fs/cgroup").glob(f"*/{parent}/{cid}")) and \
            not Path(f"/sys/fs/cgroup/{parent}/{cid}").exists()
    finally:
        berth_host.run("rm", "-f", cid, check=False)
        for d in sorted(Path("/sys/fs/cgroup").glob(f"*/{parent}"), reverse=True) + \
                [Path(f"/sys/fs/cgroup/{parent}")]:
            for x in (d, d.parent):
                try:
                    x.rmdir()
                except OSError:
                    pass
    p = berth_host.run("run", "--rm", *NONE, "--cgroup-parent", "../up", busybox_image, "true", check=False)
    assert p.returncode == 2 and "CgroupParent" in p.stderr and "../up" in p.stderr

