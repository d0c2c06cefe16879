"""Helpers for container integration tests: real runc, conmon and overlayfs on a test host."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")


def wait_for(pred, timeout: float = 15.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll until pred() is truthy (returns it) or fail."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def inspect(host, name: str) -> dict:  # type: ignore[no-untyped-def]
    return host.json("inspect", "--type", "container", name)[0]


def leftovers(host, settle: float = 5.0) -> list[str]:  # type: ignore[no-untyped-def]
    """Mounts, conmon/health processes and cgroups this host left behind (a monitor may take a
    moment to finish its exit command, so poll for up to `settle` seconds)."""
    end = time.monotonic() + settle
    while True:
        found = _leftovers(host)
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.1)


def _leftovers(host) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    base = str(host.base)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp.startswith(base):
                found.append(f"mount {mp}")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(host.runroot) in cmd and ("conmon" in cmd.split(" ")[0] or "_health" in cmd):
            found.append(f"process {pid}: {cmd[:120]}")
    ids = [d.name for d in (host.root / "containers").glob("*")] if (host.root / "containers").exists() else []
    for cg in Path("/sys/fs/cgroup").glob("*/berth/*"):
        if cg.name in ids:
            found.append(f"cgroup {cg}")
    return found


def berth_cgroups() -> set[str]:
    """Container IDs with a cgroup under a `berth` parent in any hierarchy."""
    return {p.name for p in Path("/sys/fs/cgroup").glob("*/berth/*") if p.is_dir()} | \
        {p.name for p in Path("/sys/fs/cgroup").glob("berth/*") if p.is_dir()}


def orphan_cgroups(before: set[str]) -> set[str]:
    """New berth cgroups that belong to no container record of any test host (those are leaks)."""
    live = {p.name for p in Path("/var/tmp").glob("berth-*/root/containers/*")}
    return {c for c in berth_cgroups() - before if c not in live}


def records(host) -> list[str]:  # type: ignore[no-untyped-def]
    d = host.root / "containers"
    return sorted(p.parent.name for p in d.glob("*/container.json")) if d.exists() else []


def cgroup_exists(cid: str) -> bool:
    return any(Path("/sys/fs/cgroup").glob(f"*/berth/{cid}")) or Path(f"/sys/fs/cgroup/berth/{cid}").exists()


@pytest.fixture
def run_json():  # type: ignore[no-untyped-def]
    return json.loads
