"""The OCI runtime spec of a container, built in three layers like umoci/runc's specconv:
a complete default spec with Docker's security defaults, then the container's config (already
merged with the image config at create time), then the user's HostConfig options.

Everything here is pure: inputs are the container record and a few host facts, the output is
the spec dict and a list of warnings. No I/O except reading the seccomp profile and stat()ing
devices, so it is unit-tested without runc.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from engine.containers import seccomp
from engine.containers.users import ExecUser
from engine.errors import InvalidArgument

ALL_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]
# Docker's default set (moby oci/caps/defaults.go)
DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]
MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# sysctls that are namespaced (moby opts.ValidateSysctl)
_IPC_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}
_RLIMITS = {
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
    "rss", "rtprio", "rttime", "sigpending", "stack", "as",
}
DEFAULT_SHM = 64 * 1024 * 1024
INIT_DEST = "/sbin/docker-init"


def _cap_last() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return len(ALL_CAPS) - 1


def _bounding() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return (1 << len(ALL_CAPS)) - 1


def host_caps() -> list[str]:
    """Every capability the engine itself can grant (its bounding set; all of them on a normal host)."""
    bnd = _bounding()
    return [c for i, c in enumerate(ALL_CAPS[: _cap_last() + 1]) if bnd & (1 << i)]


def norm_cap(name: str, field: str) -> str:
    n = name.strip().upper()
    if n == "ALL":
        return n
    if not n.startswith("CAP_"):
        n = "CAP_" + n
    if n not in ALL_CAPS:
        raise InvalidArgument(f"{field}: unknown capability {name!r}", field=field)
    return n


def capabilities(hc: dict[str, Any]) -> list[str]:
    """The effective capability set: Docker's defaults, CapDrop, then CapAdd (ALL allowed)."""
    if hc.get("Privileged"):
        return host_caps()
    add = [norm_cap(c, "CapAdd") for c in hc.get("CapAdd") or []]
    drop = [norm_cap(c, "CapDrop") for c in hc.get("CapDrop") or []]
    caps = list(DEFAULT_CAPS)
    if "ALL" in drop:
        caps = []
    else:
        caps = [c for c in caps if c not in drop]
    if "ALL" in add:
        caps = [c for c in host_caps() if c not in drop or "ALL" in drop]
    else:
        caps += [c for c in add if c not in caps]
    order = {c: i for i, c in enumerate(ALL_CAPS)}
    grantable = set(host_caps())
    return sorted(set(caps) & grantable, key=lambda c: order[c])


def validate_sysctl(key: str, network_host: bool) -> None:
    if key in _IPC_SYSCTLS or key.startswith("fs.mqueue."):
        return
    if key.startswith("net."):
        if network_host:
            raise InvalidArgument(f"Sysctls: {key!r} is not allowed with --network host", field="Sysctls")
        return
    raise InvalidArgument(f"Sysctls: {key!r} is not a namespaced sysctl and cannot be set in a container",
                          field="Sysctls")


def _default_mounts(shm_size: int) -> list[dict[str, Any]]:
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}"]},
    ]


def _default_device_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [{"allow": False, "access": "rwm"}]
    for typ, major, minor, access in [
        ("c", None, None, "m"), ("b", None, None, "m"),
        ("c", 1, 3, "rwm"), ("c", 1, 5, "rwm"), ("c", 1, 7, "rwm"), ("c", 1, 8, "rwm"), ("c", 1, 9, "rwm"),
        ("c", 5, 0, "rwm"), ("c", 5, 1, "rwm"), ("c", 5, 2, "rwm"), ("c", 136, None, "rwm"),
        ("c", 10, 200, "rwm"),
    ]:
        r: dict[str, Any] = {"allow": True, "type": typ, "access": access}
        if major is not None:
            r["major"] = major
        if minor is not None:
            r["minor"] = minor
        rules.append(r)
    return rules


def device_from_host(path: str, dest: str, perms: str, field: str = "Devices") -> dict[str, Any]:
    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidArgument(f"{field}: error gathering device information for {path!r}: {e.strerror}",
                              field=field) from None
    if stat.S_ISCHR(st.st_mode):
        typ = "c"
    elif stat.S_ISBLK(st.st_mode):
        typ = "b"
    else:
        raise InvalidArgument(f"{field}: {path!r} is not a device node", field=field)
    return {"path": dest, "type": typ, "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
            "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "_perms": perms}


def host_devices() -> list[dict[str, Any]]:
    """Every device node under the host's /dev, for --privileged."""
    out = []
    skip = {"/dev/pts", "/dev/mqueue", "/dev/shm", "/dev/console", "/dev/ptmx"}
    for dirpath, dirnames, filenames in os.walk("/dev"):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            if p in skip:
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                out.append({"path": p, "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
                            "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
                            "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid})
    return out


def parse_device(spec: dict[str, Any] | str) -> tuple[str, str, str]:
    """A Devices entry ({PathOnHost, PathInContainer, CgroupPermissions} or 'a[:b[:rwm]]')."""
    if isinstance(spec, str):
        parts = spec.split(":")
        host = parts[0]
        dest = parts[1] if len(parts) > 1 and parts[1] and not set(parts[1]) <= set("rwm") else host
        perms = parts[-1] if len(parts) > 1 and set(parts[-1]) <= set("rwm") else "rwm"
        return host, dest, perms
    host = spec.get("PathOnHost") or ""
    return host, spec.get("PathInContainer") or host, spec.get("CgroupPermissions") or "rwm"


def security_opts(hc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"no_new_privileges": False, "seccomp": None}
    for opt in hc.get("SecurityOpt") or []:
        key, sep, val = opt.partition("=")
        if not sep:
            key, sep, val = opt.partition(":")
        key = key.strip()
        if key == "no-new-privileges":
            if val not in ("", "true", "false"):
                raise InvalidArgument(f"SecurityOpt: invalid value {opt!r}", field="SecurityOpt")
            out["no_new_privileges"] = val != "false"
        elif key == "seccomp":
            if not val:
                raise InvalidArgument(f"SecurityOpt: {opt!r} needs a value", field="SecurityOpt")
            out["seccomp"] = val
        elif key in ("apparmor", "label"):
            continue  # no LSM support on Berth hosts; accepted like Docker does without AppArmor
        else:
            raise InvalidArgument(f"SecurityOpt: unknown option {opt!r}", field="SecurityOpt")
    return out


class HostFacts:
    """What the spec depends on besides the record. (Plain classes here and below: `berth run`
    should not pay for importing dataclasses.)"""

    def __init__(self, cgroup_v2: bool = False, seccomp_profile: str = "/usr/share/containers/seccomp.json",
                 init_path: str | None = None, hard_rlimits: dict[str, int] | None = None,
                 swap_limit: bool | None = None, blkio_weight: bool | None = None) -> None:
        self.cgroup_v2 = cgroup_v2
        self.seccomp_profile = seccomp_profile
        self.init_path = init_path  # host path of the init binary, when Init is asked
        self.hard_rlimits = hard_rlimits if hard_rlimits is not None else {}  # name -> hard limit (-1 = inf)
        self.swap_limit = swap_limit  # the kernel accounts swap (memory.memsw.*); None: look
        self.blkio_weight = blkio_weight  # block I/O weights are available (BFQ / io.weight); None: look


def _cg(path: str) -> bool:
    return os.path.exists(os.path.join("/sys/fs/cgroup", path))


def host_swap_limit(cgroup_v2: bool) -> bool:
    """Whether swap can be limited (cgroup v1 needs swap accounting; v2 has it by default)."""
    return cgroup_v2 or _cg("memory/memory.memsw.limit_in_bytes")


def host_blkio_weight(cgroup_v2: bool) -> bool:
    """Whether block I/O weights exist (v1: blkio.weight or BFQ's blkio.bfq.weight; v2: io)."""
    if cgroup_v2:
        try:
            return "io" in Path("/sys/fs/cgroup/cgroup.controllers").read_text().split()
        except OSError:
            return False
    return _cg("blkio/blkio.weight") or _cg("blkio/blkio.bfq.weight")


def drop_unsupported(res: dict[str, Any], facts: HostFacts, warnings: list[str]) -> dict[str, Any]:
    """Like dockerd: limits the kernel cannot apply are discarded with a warning, not a failed
    start (a swap limit without swap accounting, a block I/O weight without BFQ)."""
    swap_ok = facts.swap_limit if facts.swap_limit is not None else host_swap_limit(facts.cgroup_v2)
    if not swap_ok and "swap" in res.get("memory", {}):
        del res["memory"]["swap"]
        warnings.append("Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
                        "Memory limited without swap.")
    weight_ok = facts.blkio_weight if facts.blkio_weight is not None else host_blkio_weight(facts.cgroup_v2)
    if not weight_ok and "weight" in res.get("blockIO", {}):
        del res["blockIO"]["weight"]
        if not res["blockIO"]:
            del res["blockIO"]
        warnings.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                        "Weight discarded.")
    mem = res.get("memory", {})
    if facts.cgroup_v2 and ("swappiness" in mem or "disableOOMKiller" in mem):
        # cgroup v2 has neither knob; dockerd discards them the same way
        for k, what in (("swappiness", "memory swappiness"), ("disableOOMKiller", "OOM killer disable")):
            if mem.pop(k, None) is not None:
                warnings.append(f"Your kernel does not support {what} with cgroup v2. Discarded.")
        if not mem:
            del res["memory"]
    elif mem.get("disableOOMKiller") and not mem.get("limit"):
        warnings.append("OOM killer is disabled for the container, but no memory limit is set, this can result "
                        "in the system running out of resources.")
    return res


DEVICE_RULE = re.compile(r"^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$")


def device_cgroup_rule(rule: str) -> dict[str, Any]:
    """A `--device-cgroup-rule` ("c 1:3 mr", "a *:* rwm") as an OCI device cgroup entry."""
    m = DEVICE_RULE.match(str(rule).strip())
    if not m or len(set(m.group(4))) != len(m.group(4)):
        raise InvalidArgument(f"DeviceCgroupRules: invalid device cgroup rule {rule!r} "
                              "(expected 'TYPE MAJOR:MINOR ACCESS', e.g. 'c 1:3 rwm')", field="DeviceCgroupRules")
    out: dict[str, Any] = {"allow": True, "type": m.group(1), "access": m.group(4)}
    for k, v in (("major", m.group(2)), ("minor", m.group(3))):
        if v != "*":
            out[k] = int(v)
    return out


class SpecInputs:
    def __init__(self, record: dict[str, Any], rootfs: str, user: ExecUser, netns: str | None,
                 hostname_file: str | None = None, hosts_file: str | None = None,
                 resolv_file: str | None = None, volume_paths: dict[str, str] | None = None,
                 cgroups_path: str = "", namespaces: dict[str, str | None] | None = None) -> None:
        self.record = record
        self.rootfs = rootfs
        self.user = user
        self.netns = netns  # None: host network; "": a new netns; else a path
        self.hostname_file = hostname_file
        self.hosts_file = hosts_file
        self.resolv_file = resolv_file
        self.volume_paths = volume_paths if volume_paths is not None else {}  # destination -> host path
        self.cgroups_path = cgroups_path
        # pid/ipc/uts: None shares the host's, a path joins that namespace, absent makes a new
        # one; "ipc-shm": the /dev/shm to bind ("" for none), absent for a tmpfs of its own
        self.namespaces = namespaces or {}


def host_hard_limit(name: str) -> int:
    import resource

    res = getattr(resource, "RLIMIT_" + name.upper(), None)
    if res is None:
        return -1
    _soft, hard = resource.getrlimit(res)
    return -1 if hard == resource.RLIM_INFINITY else hard


def rlimits(ulimits: list[dict[str, Any]], facts: HostFacts, warnings: list[str]) -> list[dict[str, Any]]:
    out = []
    for u in ulimits or []:
        name = str(u.get("Name", "")).lower()
        if name not in _RLIMITS:
            raise InvalidArgument(f"Ulimits: invalid ulimit type {name!r}", field="Ulimits")
        soft, hard = int(u.get("Soft", 0)), int(u.get("Hard", u.get("Soft", 0)))
        if soft > hard and hard >= 0:
            raise InvalidArgument(f"Ulimits: {name} soft limit {soft} is greater than hard limit {hard}",
                                  field="Ulimits")
        limit = facts.hard_rlimits.get(name)
        if limit is None:
            limit = host_hard_limit(name)
        if limit >= 0:
            if hard < 0 or hard > limit:
                warnings.append(f"ulimit {name}: hard limit {hard} is above the host's hard limit {limit}; "
                                f"using {limit}")
                hard = limit
            if soft < 0 or soft > hard:
                soft = hard
        out.append({"type": "RLIMIT_" + name.upper(),
                    "hard": hard if hard >= 0 else 2**64 - 1, "soft": soft if soft >= 0 else 2**64 - 1})
    return out


def resources(hc: dict[str, Any]) -> dict[str, Any]:
    """`linux.resources` from HostConfig (also used by `update`)."""
    r: dict[str, Any] = {}
    mem: dict[str, Any] = {}
    memory = int(hc.get("Memory") or 0)
    swap = int(hc.get("MemorySwap") or 0)
    if memory:
        mem["limit"] = memory
        if swap == 0:
            mem["swap"] = memory * 2  # Docker: swap defaults to twice the memory
        elif swap == -1:
            mem["swap"] = -1
        else:
            if swap < memory:
                raise InvalidArgument(f"MemorySwap: {swap} must be larger than or equal to Memory {memory}",
                                      field="MemorySwap")
            mem["swap"] = swap
    elif swap > 0:
        raise InvalidArgument("MemorySwap: you should always set Memory together with MemorySwap",
                              field="MemorySwap")
    if hc.get("MemoryReservation"):
        mem["reservation"] = int(hc["MemoryReservation"])
    sw = hc.get("MemorySwappiness")
    if sw is not None and int(sw) != -1:  # -1: the kernel's (or the parent's) value, docker's "unset"
        if not 0 <= int(sw) <= 100:
            raise InvalidArgument(f"MemorySwappiness: {sw} is out of range (0-100, or -1 for unset)",
                                  field="MemorySwappiness")
        mem["swappiness"] = int(sw)
    if hc.get("OomKillDisable"):
        mem["disableOOMKiller"] = True
    if mem:
        r["memory"] = mem
    cpu: dict[str, Any] = {}
    if hc.get("CpuShares"):
        cpu["shares"] = int(hc["CpuShares"])
    if hc.get("NanoCpus"):
        if hc.get("CpuQuota") or hc.get("CpuPeriod"):
            raise InvalidArgument("NanoCpus: conflicting options: NanoCpus and CpuPeriod/CpuQuota",
                                  field="NanoCpus")
        cpu["period"] = 100000
        cpu["quota"] = int(hc["NanoCpus"]) * 100000 // 1_000_000_000
    # the kernel's CFS bounds, checked here (like dockerd) so that a bad value fails naming the
    # field before anything is created or updated, not as runc's write error afterwards
    if hc.get("CpuPeriod"):
        if not 1000 <= int(hc["CpuPeriod"]) <= 1000000:
            raise InvalidArgument(f"CpuPeriod: {hc['CpuPeriod']} is out of range: the CPU CFS period must be "
                                  "between 1000 (1ms) and 1000000 (1s) microseconds", field="CpuPeriod")
        cpu["period"] = int(hc["CpuPeriod"])
    if hc.get("CpuQuota"):
        if 0 < int(hc["CpuQuota"]) < 1000:
            raise InvalidArgument(f"CpuQuota: {hc['CpuQuota']} is too small: the CPU CFS quota must be at least "
                                  "1000 (1ms) microseconds, or -1 for no limit", field="CpuQuota")
        cpu["quota"] = int(hc["CpuQuota"])
    if hc.get("CpusetCpus"):
        cpu["cpus"] = str(hc["CpusetCpus"])
    if hc.get("CpusetMems"):
        cpu["mems"] = str(hc["CpusetMems"])
    if cpu:
        r["cpu"] = cpu
    if hc.get("PidsLimit") and int(hc["PidsLimit"]) != 0:
        r["pids"] = {"limit": int(hc["PidsLimit"])}
    if hc.get("BlkioWeight"):
        w = int(hc["BlkioWeight"])
        if not 10 <= w <= 1000:
            raise InvalidArgument(f"BlkioWeight: {w} is out of range (10-1000)", field="BlkioWeight")
        r["blockIO"] = {"weight": w}
    for key, oci in BLKIO_THROTTLES:
        if hc.get(key):
            if not isinstance(hc[key], list):
                raise InvalidArgument(f"{key}: expected a list of {{Path, Rate}}, got {hc[key]!r}", field=key)
            r.setdefault("blockIO", {})[oci] = [blkio_throttle(t, key) for t in hc[key]]
    return r


# docker's --device-{read,write}-{bps,iops} (HostConfig) and the OCI blockIO lists they fill
BLKIO_THROTTLES = (("BlkioDeviceReadBps", "throttleReadBpsDevice"), ("BlkioDeviceWriteBps", "throttleWriteBpsDevice"),
                   ("BlkioDeviceReadIOps", "throttleReadIOPSDevice"),
                   ("BlkioDeviceWriteIOps", "throttleWriteIOPSDevice"))


def blkio_throttle(t: Any, field: str) -> dict[str, int]:
    """{"Path": "/dev/vda", "Rate": n} -> {"major", "minor", "rate"} of that block device."""
    path, rate = (t.get("Path"), t.get("Rate")) if isinstance(t, dict) else (None, None)
    if not isinstance(path, str) or not isinstance(rate, int) or isinstance(rate, bool) or rate < 0:
        raise InvalidArgument(f"{field}: expected {{Path: a block device, Rate: a non-negative integer}}, got {t!r}",
                              field=field)
    dev = device_from_host(path, path, "", field)
    if dev["type"] != "b":
        raise InvalidArgument(f"{field}: {path!r} is not a block device", field=field)
    return {"major": dev["major"], "minor": dev["minor"], "rate": rate}


def _tmpfs_opts(opts: str, field: str) -> list[str]:
    out = ["nosuid", "nodev", "noexec"]
    for o in [x for x in opts.split(",") if x]:
        if o in ("exec", "suid", "dev"):
            out = [x for x in out if x != "no" + o]
        elif o.startswith(("size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks=")) or o in (
                "ro", "rw", "noexec", "nosuid", "nodev", "noatime", "relatime", "strictatime", "nodiratime"):
            out.append(o)
        else:
            raise InvalidArgument(f"{field}: invalid tmpfs option {o!r}", field=field)
    return out


def build(inp: SpecInputs, facts: HostFacts, warnings: list[str]) -> dict[str, Any]:
    rec = inp.record
    cfg = rec.get("Config") or {}
    hc = rec.get("HostConfig") or {}
    privileged = bool(hc.get("Privileged"))
    shm = int(hc.get("ShmSize") or DEFAULT_SHM)

    args = [rec.get("Path") or "", *(rec.get("Args") or [])]
    if not args[0]:
        raise InvalidArgument("Cmd: no command specified", field="Cmd")
    mounts = _default_mounts(shm)
    if hc.get("Init"):
        if not facts.init_path:
            raise InvalidArgument("Init: no init binary found (config init_path)", field="Init")
        mounts.append({"destination": INIT_DEST, "type": "bind", "source": facts.init_path,
                       "options": ["rbind", "ro", "rprivate"]})
        args = [INIT_DEST, "--", *args]

    caps = capabilities(hc)
    sec = security_opts(hc)
    env = list(cfg.get("Env") or [])
    host_uts = inp.netns is None or "uts" in inp.namespaces  # --network host or --uts host, like Docker
    if not any(e.startswith("HOSTNAME=") for e in env):  # dockerd adds it after PATH
        name = os.uname().nodename if host_uts else (cfg.get("Hostname") or "")
        at = next((i + 1 for i, e in enumerate(env) if e.startswith("PATH=")), 0)
        env.insert(at, f"HOSTNAME={name}")
    if cfg.get("Tty") and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={inp.user.home or '/'}")

    process: dict[str, Any] = {
        "terminal": bool(cfg.get("Tty")),
        "user": {"uid": inp.user.uid, "gid": inp.user.gid},
        "args": args,
        "env": env,
        "cwd": cfg.get("WorkingDir") or "/",
        "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted")},
        "noNewPrivileges": sec["no_new_privileges"],
    }
    if inp.user.additional_gids:
        process["user"]["additionalGids"] = list(inp.user.additional_gids)
    if hc.get("OomScoreAdj"):
        process["oomScoreAdj"] = int(hc["OomScoreAdj"])
    rl = rlimits(hc.get("Ulimits") or [], facts, warnings)
    if rl:
        process["rlimits"] = rl

    namespaces: list[dict[str, Any]] = [{"type": "mount"}]
    for kind in ("pid", "ipc"):
        if kind not in inp.namespaces:
            namespaces.append({"type": kind})
        elif inp.namespaces[kind]:
            namespaces.append({"type": kind, "path": inp.namespaces[kind]})
    shm_from = inp.namespaces.get("ipc-shm")
    if shm_from is not None:
        mounts = [m for m in mounts if m["destination"] != "/dev/shm"]
        if shm_from:
            mounts.append({"destination": "/dev/shm", "type": "bind", "source": shm_from,
                           "options": ["rbind", "rprivate", "nosuid", "noexec", "nodev"]})
    if not host_uts:
        namespaces.append({"type": "uts"})
    if inp.netns is not None:
        ns: dict[str, Any] = {"type": "network"}
        if inp.netns:
            ns["path"] = inp.netns
        namespaces.append(ns)
    # docker's default: a cgroup namespace of its own on cgroup v2, the host's on v1
    if (hc.get("CgroupnsMode") or ("private" if facts.cgroup_v2 else "host")) == "private":
        namespaces.append({"type": "cgroup"})

    # files owned by the engine
    for dest, src in (("/etc/hostname", inp.hostname_file), ("/etc/hosts", inp.hosts_file),
                      ("/etc/resolv.conf", inp.resolv_file)):
        if src:
            mounts.append({"destination": dest, "type": "bind", "source": src, "options": ["rbind", "rprivate"]})

    user_mounts: list[dict[str, Any]] = []
    for m in rec.get("Mounts") or []:
        dest = m["Destination"]
        if m["Type"] == "tmpfs":
            continue
        src = m.get("Source") or ""
        if m["Type"] == "volume":
            src = inp.volume_paths.get(dest, src)
        opts = ["rbind", "rw" if m.get("RW", True) else "ro", m.get("Propagation") or "rprivate"]
        user_mounts.append({"destination": dest, "type": "bind", "source": src, "options": opts})
    for dest, opts in (hc.get("Tmpfs") or {}).items():
        user_mounts.append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                            "options": _tmpfs_opts(opts or "", "Tmpfs")})
    for m in hc.get("Mounts") or []:
        if m.get("Type") == "tmpfs":
            t = m.get("TmpfsOptions") or {}
            o = []
            if t.get("SizeBytes"):
                o.append(f"size={int(t['SizeBytes'])}")
            if t.get("Mode"):
                o.append(f"mode={int(t['Mode']):o}")
            if m.get("ReadOnly"):
                o.append("ro")
            user_mounts.append({"destination": m["Target"], "type": "tmpfs", "source": "tmpfs",
                                "options": _tmpfs_opts(",".join(o), "Mounts")})
    user_dests = {m["destination"] for m in user_mounts}
    mounts = [m for m in mounts if m["destination"] not in user_dests]
    # parents before children, so a mount inside another one lands on top of it
    mounts += sorted(user_mounts, key=lambda m: m["destination"].rstrip("/").count("/"))

    res = drop_unsupported(resources(hc), facts, warnings)
    res["devices"] = _default_device_rules() + [device_cgroup_rule(r) for r in hc.get("DeviceCgroupRules") or []]
    devices: list[dict[str, Any]] = []
    if privileged:
        res["devices"] = [{"allow": True, "access": "rwm"}]
        devices = host_devices()
        for m in mounts:
            if m["destination"] in ("/sys", "/sys/fs/cgroup"):
                m["options"] = [o for o in m["options"] if o != "ro"]
    for d in hc.get("Devices") or []:
        host, dest, perms = parse_device(d)
        dev = device_from_host(host, dest, perms)
        perms = dev.pop("_perms")
        devices.append(dev)
        res["devices"].append({"allow": True, "type": dev["type"], "major": dev["major"],
                               "minor": dev["minor"], "access": perms})

    sysctl = {}
    for k, v in (hc.get("Sysctls") or {}).items():
        validate_sysctl(k, inp.netns is None)
        sysctl[k] = str(v)

    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": res,
        "devices": devices,
        "sysctl": sysctl,
    }
    if inp.cgroups_path:
        linux["cgroupsPath"] = inp.cgroups_path
    if not privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
        if sec["seccomp"] != "unconfined":
            profile_path = sec["seccomp"] or facts.seccomp_profile
            if profile_path:
                linux["seccomp"] = seccomp.convert(seccomp.load_profile(profile_path), set(caps))

    spec: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": inp.rootfs, "readonly": bool(hc.get("ReadonlyRootfs"))},
        "hostname": cfg.get("Hostname") or "",
        "mounts": mounts,
        "linux": linux,
    }
    if cfg.get("Domainname"):
        spec["domainname"] = cfg["Domainname"]
    if host_uts:
        spec.pop("hostname")
        spec.pop("domainname", None)
    return spec
