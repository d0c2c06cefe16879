"""The runtime spec: Docker's defaults, then image config, then user options."""

from __future__ import annotations

import copy
import os

import pytest

from engine.containers import seccomp, spec
from engine.containers.users import ExecUser
from engine.errors import InvalidArgument

BASE = {
    "Id": "a" * 64, "Path": "sh", "Args": ["-c", "true"],
    "Config": {"Hostname": "aaaaaaaaaaaa", "Env": ["PATH=/bin"], "WorkingDir": "", "Tty": False},
    "HostConfig": {"NetworkMode": "none"}, "Mounts": [],
}


def build(hc=None, cfg=None, netns="", facts=None, warnings=None):
    rec = copy.deepcopy(BASE)
    rec["HostConfig"].update(hc or {})
    rec["Config"].update(cfg or {})
    inp = spec.SpecInputs(record=rec, rootfs="/r", user=ExecUser(0, 0), netns=netns)
    return spec.build(inp, facts or spec.HostFacts(hard_rlimits={"nofile": 20000}), warnings if warnings is not None else [])


def test_defaults_match_docker():
    s = build()
    caps = s["process"]["capabilities"]["bounding"]
    assert sorted(caps) == sorted(spec.DEFAULT_CAPS)
    assert "CAP_SYS_ADMIN" not in caps
    assert s["process"]["capabilities"]["effective"] == caps
    assert "/proc/kcore" in s["linux"]["maskedPaths"]
    assert "/proc/sys" in s["linux"]["readonlyPaths"]
    assert s["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    dests = [m["destination"] for m in s["mounts"]]
    for d in ("/proc", "/dev", "/dev/pts", "/sys", "/dev/shm", "/dev/mqueue"):
        assert d in dests
    shm = next(m for m in s["mounts"] if m["destination"] == "/dev/shm")
    assert f"size={64 * 1024 * 1024}" in shm["options"]
    assert {"type": "network"} in s["linux"]["namespaces"]
    assert s["hostname"] == "aaaaaaaaaaaa"
    assert s["process"]["noNewPrivileges"] is False
    assert s["linux"]["resources"]["devices"][0] == {"allow": False, "access": "rwm"}


@pytest.mark.parametrize("hc,has,lacks", [
    ({"CapAdd": ["NET_ADMIN"]}, ["CAP_NET_ADMIN", "CAP_CHOWN"], []),
    ({"CapDrop": ["chown", "CAP_KILL"]}, ["CAP_SETUID"], ["CAP_CHOWN", "CAP_KILL"]),
    ({"CapDrop": ["ALL"], "CapAdd": ["NET_BIND_SERVICE"]}, ["CAP_NET_BIND_SERVICE"], ["CAP_CHOWN"]),
    ({"CapAdd": ["ALL"]}, ["CAP_SYS_ADMIN", "CAP_BPF"], []),
    ({"Privileged": True}, ["CAP_SYS_ADMIN"], []),
])
def test_capabilities(hc, has, lacks):
    caps = build(hc)["process"]["capabilities"]["bounding"]
    for c in has:
        assert c in caps
    for c in lacks:
        assert c not in caps


def test_unknown_cap_names_the_option():
    with pytest.raises(InvalidArgument) as e:
        build({"CapAdd": ["NOPE"]})
    assert e.value.field == "CapAdd" and "NOPE" in e.value.message


def test_privileged_drops_confinement():
    s = build({"Privileged": True})
    assert "maskedPaths" not in s["linux"] and "seccomp" not in s["linux"]
    assert s["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    sysfs = next(m for m in s["mounts"] if m["destination"] == "/sys")
    assert "ro" not in sysfs["options"]


@pytest.mark.parametrize("opt,nnp,seccomp_on", [
    ("no-new-privileges", True, True), ("no-new-privileges:true", True, True),
    ("no-new-privileges=false", False, True), ("seccomp=unconfined", False, False),
])
def test_security_opts(opt, nnp, seccomp_on):
    s = build({"SecurityOpt": [opt]})
    assert s["process"]["noNewPrivileges"] is nnp
    assert ("seccomp" in s["linux"]) is seccomp_on


def test_bad_security_opt():
    with pytest.raises(InvalidArgument) as e:
        build({"SecurityOpt": ["bogus=1"]})
    assert e.value.field == "SecurityOpt"


def test_resources_v1_and_v2_fields():
    r = spec.resources({"Memory": 64 << 20, "NanoCpus": 1_500_000_000, "CpuShares": 512, "PidsLimit": 20,
                        "CpusetCpus": "0", "BlkioWeight": 300, "MemoryReservation": 32 << 20})
    assert r["memory"] == {"limit": 64 << 20, "swap": 128 << 20, "reservation": 32 << 20}
    assert r["cpu"] == {"shares": 512, "period": 100000, "quota": 150000, "cpus": "0"}
    assert r["pids"] == {"limit": 20}
    assert r["blockIO"] == {"weight": 300}


@pytest.mark.parametrize("hc,field", [
    ({"MemorySwap": 10 << 20}, "MemorySwap"),
    ({"Memory": 64 << 20, "MemorySwap": 32 << 20}, "MemorySwap"),
    ({"BlkioWeight": 5}, "BlkioWeight"),
    ({"NanoCpus": 1, "CpuQuota": 5}, "NanoCpus"),
    ({"CpuQuota": 500}, "CpuQuota"),
    ({"CpuPeriod": 999}, "CpuPeriod"),
    ({"CpuPeriod": 1000001}, "CpuPeriod"),
])
def test_bad_resources(hc, field):
    with pytest.raises(InvalidArgument) as e:
        spec.resources(hc)
    assert e.value.field == field


def test_ulimit_clamped_with_warning():
    w: list[str] = []
    s = build({"Ulimits": [{"Name": "nofile", "Soft": 50000, "Hard": 60000}]}, warnings=w)
    rl = s["process"]["rlimits"][0]
    assert rl == {"type": "RLIMIT_NOFILE", "soft": 20000, "hard": 20000}
    assert w and "20000" in w[0]


def test_ulimit_within_limits_kept():
    s = build({"Ulimits": [{"Name": "nofile", "Soft": 1000, "Hard": 2000}]})
    assert s["process"]["rlimits"][0] == {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000}


@pytest.mark.parametrize("key,ok,host", [
    ("net.ipv4.ip_forward", True, False), ("kernel.shmmax", True, False), ("fs.mqueue.msg_max", True, False),
    ("kernel.hostname", False, False), ("vm.swappiness", False, False), ("net.core.somaxconn", False, True),
])
def test_sysctls(key, ok, host):
    if ok:
        spec.validate_sysctl(key, host)
    else:
        with pytest.raises(InvalidArgument) as e:
            spec.validate_sysctl(key, host)
        assert e.value.field == "Sysctls" and key in e.value.message


def test_host_network_shares_uts_and_net():
    s = build(netns=None)
    types = [n["type"] for n in s["linux"]["namespaces"]]
    assert "network" not in types and "uts" not in types and "hostname" not in s


@pytest.mark.parametrize("namespaces,want,shm", [
    ({}, {"pid": None, "ipc": None, "uts": None}, "tmpfs"),
    # PidMode host: no pid namespace; container:X: X's
    ({"pid": None}, {"ipc": None, "uts": None}, "tmpfs"),
    ({"pid": "/proc/7/ns/pid"}, {"pid": "/proc/7/ns/pid", "ipc": None, "uts": None}, "tmpfs"),
    # IpcMode host: the host's namespace and /dev/shm; none: no /dev/shm; shareable: a host tmpfs
    ({"ipc": None, "ipc-shm": "/dev/shm"}, {"pid": None, "uts": None}, "/dev/shm"),
    ({"ipc-shm": ""}, {"pid": None, "ipc": None, "uts": None}, None),
    ({"ipc": "/proc/7/ns/ipc", "ipc-shm": "/run/berth/shm/x"},
     {"pid": None, "ipc": "/proc/7/ns/ipc", "uts": None}, "/run/berth/shm/x"),
    # UTSMode host: no uts namespace, and so no hostname for runc to set
    ({"uts": None}, {"pid": None, "ipc": None}, "tmpfs"),
])
def test_pid_ipc_uts_modes(namespaces, want, shm):
    rec = copy.deepcopy(BASE)
    inp = spec.SpecInputs(record=rec, rootfs="/r", user=ExecUser(0, 0), netns="", namespaces=namespaces)
    s = spec.build(inp, spec.HostFacts(), [])
    got = {n["type"]: n.get("path") for n in s["linux"]["namespaces"] if n["type"] in ("pid", "ipc", "uts")}
    assert got == want
    assert ("hostname" in s) == ("uts" in want)
    shms = [m for m in s["mounts"] if m["destination"] == "/dev/shm"]
    if shm is None:
        assert shms == []
    else:
        assert len(shms) == 1 and (shms[0]["type"] if shm == "tmpfs" else shms[0]["source"]) == shm


def test_swappiness_oom_device_rules_cgroupns():
    warnings: list[str] = []
    s = build({"Memory": 64 << 20, "MemorySwappiness": 10, "OomKillDisable": True,
               "DeviceCgroupRules": ["c 1:9 rwm", "b *:* m"], "CgroupnsMode": "private"}, warnings=warnings)
    mem = s["linux"]["resources"]["memory"]
    assert mem["swappiness"] == 10 and mem["disableOOMKiller"] is True and warnings == []
    assert s["linux"]["resources"]["devices"][-2:] == [
        {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
        {"allow": True, "type": "b", "access": "m"}]
    assert {"type": "cgroup"} in s["linux"]["namespaces"]
    # docker's defaults: the host's cgroup namespace on v1, one of its own on v2; -1 is "unset"
    assert {"type": "cgroup"} not in build({"MemorySwappiness": -1})["linux"]["namespaces"]
    assert "memory" not in build({"MemorySwappiness": -1})["linux"]["resources"]
    v2 = build({"CgroupnsMode": "host", "MemorySwappiness": 10}, facts=spec.HostFacts(cgroup_v2=True),
               warnings=warnings)
    assert {"type": "cgroup"} not in v2["linux"]["namespaces"] and "memory" not in v2["linux"]["resources"]
    assert warnings and "swappiness" in warnings[0]
    # an OOM killer disabled without a memory limit is allowed, with docker's warning
    warnings.clear()
    build({"OomKillDisable": True}, warnings=warnings)
    assert "no memory limit" in warnings[0]


@pytest.mark.parametrize("hc,field,value", [
    ({"DeviceCgroupRules": ["c 1:3"]}, "DeviceCgroupRules", "c 1:3"),
    ({"DeviceCgroupRules": ["x 1:3 rwm"]}, "DeviceCgroupRules", "x 1:3 rwm"),
    ({"DeviceCgroupRules": ["c 1:3 rrw"]}, "DeviceCgroupRules", "c 1:3 rrw"),
    ({"MemorySwappiness": 101}, "MemorySwappiness", "101"),
    ({"CgroupnsMode": "shared"}, "CgroupnsMode", "shared"),
    ({"CgroupParent": "../escape"}, "CgroupParent", "../escape"),
    ({"CgroupParent": "my.slice:docker"}, "CgroupParent", "my.slice:docker"),
])
def test_bad_cgroup_options_name_field_and_value(hc, field, value):
    from engine.containers.config import host_config

    with pytest.raises(InvalidArgument) as e:
        host_config(hc)
    assert e.value.field == field and value in e.value.message


def test_block_io_throttles(tmp_path):
    dev = next(p for p in ("/dev/vda", "/dev/sda", "/dev/loop0", "/dev/zram0") if os.path.exists(p))
    st = os.stat(dev)
    s = build({"BlkioDeviceReadBps": [{"Path": dev, "Rate": 1 << 20}],
               "BlkioDeviceWriteIOps": [{"Path": dev, "Rate": 100}]})
    bio = s["linux"]["resources"]["blockIO"]
    want = {"major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev)}
    assert bio == {"throttleReadBpsDevice": [{**want, "rate": 1 << 20}],
                   "throttleWriteIOPSDevice": [{**want, "rate": 100}]}
    for bad, needle in (([{"Path": "/dev/null", "Rate": 1}], "not a block device"),
                        ([{"Path": str(tmp_path / "none"), "Rate": 1}], "none"),
                        ([{"Path": dev, "Rate": -1}], "non-negative"),
                        ({"Path": dev, "Rate": 1}, "a list")):
        with pytest.raises(InvalidArgument) as e:
            build({"BlkioDeviceReadBps": bad})
        assert e.value.field == "BlkioDeviceReadBps" and needle in e.value.message


def test_netns_path():
    s = build(netns="/run/x/netns/abc")
    assert {"type": "network", "path": "/run/x/netns/abc"} in s["linux"]["namespaces"]


def test_mounts_binds_tmpfs_and_shm():
    rec_mounts = [{"Type": "bind", "Source": "/srv", "Destination": "/data", "RW": False, "Propagation": "rslave"}]
    rec = copy.deepcopy(BASE)
    rec["Mounts"] = rec_mounts
    rec["HostConfig"].update({"Tmpfs": {"/run": "size=1m,mode=1777"}, "ShmSize": 1 << 20, "ReadonlyRootfs": True})
    s = spec.build(spec.SpecInputs(record=rec, rootfs="/r", user=ExecUser(0, 0), netns=""), spec.HostFacts(), [])
    data = next(m for m in s["mounts"] if m["destination"] == "/data")
    assert data["options"] == ["rbind", "ro", "rslave"] and data["source"] == "/srv"
    run = next(m for m in s["mounts"] if m["destination"] == "/run")
    assert run["type"] == "tmpfs" and "size=1m" in run["options"] and "noexec" in run["options"]
    shm = next(m for m in s["mounts"] if m["destination"] == "/dev/shm")
    assert f"size={1 << 20}" in shm["options"]
    assert s["root"]["readonly"] is True


def test_init_wraps_command():
    s = build({"Init": True}, facts=spec.HostFacts(init_path="/usr/bin/tini-static"))
    assert s["process"]["args"][:2] == [spec.INIT_DEST, "--"]
    assert any(m["destination"] == spec.INIT_DEST and m["source"] == "/usr/bin/tini-static" for m in s["mounts"])


def test_device_needs_a_device_node(tmp_path):
    f = tmp_path / "plain"
    f.write_text("x")
    with pytest.raises(InvalidArgument) as e:
        build({"Devices": [{"PathOnHost": str(f), "PathInContainer": "/dev/x", "CgroupPermissions": "rwm"}]})
    assert e.value.field == "Devices"
    s = build({"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "r"}]})
    dev = s["linux"]["devices"][0]
    assert dev["path"] == "/dev/mynull" and (dev["major"], dev["minor"]) == (1, 3)
    assert {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "r"} in s["linux"]["resources"]["devices"]


PROFILE = {
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
        {"names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
        {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["future"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
    ],
}


def _names(sec):
    return [(n, r["action"]) for r in sec["syscalls"] for n in r["names"]]


def test_seccomp_conditions_amd64():
    sec = seccomp.convert(PROFILE, {"CAP_CHOWN"}, machine="x86_64", x32=True)
    assert sec["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    # a kernel without the x32 ABI gets no filter for it (32-bit x86 keeps its own)
    off = seccomp.convert(PROFILE, {"CAP_CHOWN"}, machine="x86_64", x32=False)
    assert off["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert off["syscalls"] == sec["syscalls"]
    assert sec["defaultErrnoRet"] == 38
    names = _names(sec)
    assert ("arch_prctl", "SCMP_ACT_ALLOW") in names and ("cacheflush", "SCMP_ACT_ALLOW") not in names
    assert ("bpf", "SCMP_ACT_ERRNO") in names and ("bpf", "SCMP_ACT_ALLOW") not in names
    assert ("future", "SCMP_ACT_ALLOW") not in names
    pers = next(r for r in sec["syscalls"] if r["names"] == ["personality"])
    assert pers["args"] == [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]


def test_x32_probe_matches_the_kernel():
    """The probe agrees with an x32 system call made in a child process (which may die of it);
    off x86_64 there is nothing to probe and the profile stays as written."""
    import os
    import subprocess
    import sys

    expected = True
    if os.uname().machine == "x86_64":
        code = ("import ctypes, errno; libc = ctypes.CDLL(None, use_errno=True); r = libc.syscall(0x40000000 | 39); "
                "print(int(not (r == -1 and ctypes.get_errno() == errno.ENOSYS)))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        expected = out.stdout.strip() == "1" if out.returncode == 0 else True
    assert seccomp.x32_enabled() is expected


def test_seccomp_conditions_caps_and_arm64():
    sec = seccomp.convert(PROFILE, {"CAP_SYS_ADMIN"}, machine="aarch64")
    names = _names(sec)
    assert sec["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert ("cacheflush", "SCMP_ACT_ALLOW") in names and ("arch_prctl", "SCMP_ACT_ALLOW") not in names
    assert ("bpf", "SCMP_ACT_ALLOW") in names and ("bpf", "SCMP_ACT_ERRNO") not in names


@pytest.mark.requires("seccomp-profile")
def test_real_profile_converts():
    path = "/usr/share/containers/seccomp.json"
    sec = seccomp.convert(seccomp.load_profile(path), set(spec.DEFAULT_CAPS), machine="x86_64")
    names = {n for r in sec["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
    assert "read" in names and "arch_prctl" in names and "kexec_load" not in names


def test_unsupported_limits_discarded_with_a_warning():
    hc = {"Memory": 64 << 20, "MemorySwap": 128 << 20, "BlkioWeight": 300}
    w: list[str] = []
    s = build(hc, facts=spec.HostFacts(swap_limit=False, blkio_weight=False), warnings=w)
    assert s["linux"]["resources"]["memory"] == {"limit": 64 << 20}
    assert "blockIO" not in s["linux"]["resources"]
    assert len(w) == 2 and "swap" in w[0] and "Block I/O weight" in w[1]
    w2: list[str] = []
    s = build(hc, facts=spec.HostFacts(swap_limit=True, blkio_weight=True), warnings=w2)
    assert s["linux"]["resources"]["memory"]["swap"] == 128 << 20
    assert s["linux"]["resources"]["blockIO"] == {"weight": 300} and w2 == []


def test_env_gets_hostname_and_home_like_dockerd():
    env = build(cfg={"Env": ["PATH=/bin", "A=1"]})["process"]["env"]
    assert env == ["PATH=/bin", "HOSTNAME=aaaaaaaaaaaa", "A=1", "HOME=/"]
    env = build(cfg={"Env": ["PATH=/bin", "HOSTNAME=mine"]})["process"]["env"]
    assert env.count("HOSTNAME=mine") == 1 and not [e for e in env if e == "HOSTNAME=aaaaaaaaaaaa"]
    import os

    assert f"HOSTNAME={os.uname().nodename}" in build(netns=None)["process"]["env"]  # host network


def test_cgroups_path_under_the_parent():
    from engine.containers.runtime import cgroups_path

    assert cgroups_path({}, "abc") == "/berth/abc"
    assert cgroups_path({"CgroupParent": "ops/batch/"}, "abc") == "/ops/batch/abc"
    assert cgroups_path({"CgroupParent": "/ops"}, "abc") == "/ops/abc"
