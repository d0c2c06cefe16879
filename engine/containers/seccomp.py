"""Turn a Docker/containers-common seccomp profile into the OCI spec's `linux.seccomp`.

The profile (config `seccomp_profile`, default the containers-common package's file) is the
moby format: `defaultAction`, `archMap`, and `syscalls` entries with `includes`/`excludes`
conditions on architectures (Go names: amd64, arm64...), capabilities and minimum kernel.
Only the entries whose conditions hold for this host and this container's capability set are
kept, as Docker does.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from engine.errors import InvalidArgument

# uname machine -> (Go arch name used by profile conditions, SCMP arch)
_ARCHES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "armv7l": ("arm", "SCMP_ARCH_ARM"),
    "i686": ("386", "SCMP_ARCH_X86"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
}
# names used in profiles for the same arch
_ALIASES = {"amd64": {"amd64", "x86_64"}, "386": {"386", "x86"}, "arm64": {"arm64", "aarch64"}}

_profile_cache: dict[str, dict[str, Any]] = {}


def load_profile(path: str) -> dict[str, Any]:
    if path not in _profile_cache:
        try:
            with open(path, "rb") as f:
                _profile_cache[path] = json.load(f)
        except (OSError, ValueError) as e:
            raise InvalidArgument(f"seccomp_profile {path!r}: {e}", field="seccomp_profile") from None
    return _profile_cache[path]


def _kernel_version() -> tuple[int, int]:
    rel = os.uname().release
    nums = []
    for piece in rel.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        nums.append(int(digits or 0))
    while len(nums) < 2:
        nums.append(0)
    return nums[0], nums[1]


def _kernel_at_least(v: str) -> bool:
    want = tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in v.split(".")[:2])
    return _kernel_version() >= want


@functools.cache
def x32_enabled() -> bool:
    """Whether this kernel runs x32 system calls. Debian's kernels build the ABI in but leave it
    off (syscall.x32=n), and many kernels lack it. A filter for an ABI the kernel refuses anyway
    protects nothing and costs runc a third of the profile's compile time on every start, so
    Berth leaves SCMP_ARCH_X32 out then. Probed with an x32 getpid, and only when Berth itself
    runs without a seccomp filter (a filter without x32 could kill it for the probe); when in
    doubt, True (the profile as written)."""
    try:
        with open("/proc/self/status") as f:
            filtered = any(line.startswith("Seccomp:") and line.split()[1] != "0" for line in f)
        if filtered or os.uname().machine != "x86_64":
            return True
        import ctypes
        import errno

        libc = ctypes.CDLL(None, use_errno=True)
        r = libc.syscall(0x40000000 | 39)  # __X32_SYSCALL_BIT | __NR_getpid
        return not (r == -1 and ctypes.get_errno() == errno.ENOSYS)
    except (OSError, AttributeError, IndexError):
        return True


def convert(profile: dict[str, Any], caps: set[str], machine: str | None = None,
            x32: bool | None = None) -> dict[str, Any]:
    """The OCI seccomp section for a container holding `caps` (names with the CAP_ prefix).
    `x32`: whether the kernel runs x32 system calls (None: probe this host)."""
    machine = machine or os.uname().machine  # what platform.machine() reads, without importing it
    goarch, scmp_arch = _ARCHES.get(machine, (machine, ""))
    arch_names = _ALIASES.get(goarch, {goarch})

    arches: list[str] = []
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == scmp_arch:
            arches = [entry["architecture"], *entry.get("subArchitectures", [])]
    if not arches:
        arches = list(profile.get("architectures") or ([scmp_arch] if scmp_arch else []))
    if "SCMP_ARCH_X32" in arches and not (x32_enabled() if x32 is None else x32):
        arches.remove("SCMP_ARCH_X32")

    out: dict[str, Any] = {"defaultAction": profile.get("defaultAction", "SCMP_ACT_ERRNO"),
                           "architectures": arches, "syscalls": []}
    if profile.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]

    for sc in profile.get("syscalls") or []:
        inc = sc.get("includes") or {}
        exc = sc.get("excludes") or {}
        if inc.get("arches") and not arch_names & set(inc["arches"]):
            continue
        if exc.get("arches") and arch_names & set(exc["arches"]):
            continue
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if exc.get("caps") and set(exc["caps"]) & caps:
            continue
        if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"]):
            continue
        if exc.get("minKernel") and _kernel_at_least(exc["minKernel"]):
            continue
        names = list(sc.get("names") or ([sc["name"]] if sc.get("name") else []))
        if not names:
            continue
        rule: dict[str, Any] = {"names": names, "action": sc["action"]}
        if sc.get("errnoRet") is not None:
            rule["errnoRet"] = sc["errnoRet"]
        args = [
            {"index": a["index"], "value": a.get("value", 0), "valueTwo": a.get("valueTwo", 0), "op": a["op"]}
            for a in sc.get("args") or []
        ]
        if args:
            rule["args"] = args
        out["syscalls"].append(rule)
    return out
