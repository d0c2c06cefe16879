#!/usr/bin/env python3
"""Check that this host can run Berth containers; print one JSON document.

Run by the role berth.engine.host with the engine's own interpreter ({{ berth_prefix }}/bin/python).
It asks `berth info --format json` and checks what the engine reports there: the OCI runtime
and conmon found, the cgroup version, nftables, the seccomp profile present. Then it checks two
things more directly than `info` does: nftables accepts a table (`nft -c`, which changes nothing)
and the seccomp profile is valid JSON with syscall rules.

Usage: hostcheck.py [--no-info] BERTH [--root DIR] [--runroot DIR] [--config FILE]
  --no-info   do not require `berth info` to answer (for engines without it; direct checks only)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def _which(name: str) -> str | None:
    if os.path.isabs(name):
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")


def _cgroup_version() -> str | None:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return "2"
    if Path("/sys/fs/cgroup/memory").exists() or Path("/sys/fs/cgroup/cpu").exists():
        return "1"
    return None


def _check(ok: bool, detail: str) -> dict[str, Any]:
    return {"ok": bool(ok), "detail": detail}


def main(argv: list[str]) -> int:
    require_info = True
    if argv and argv[0] == "--no-info":
        require_info, argv = False, argv[1:]
    berth, rest = argv[0], argv[1:]
    config_path = rest[rest.index("--config") + 1] if "--config" in rest else "/etc/berth/config.toml"
    checks: dict[str, dict[str, Any]] = {}

    info: dict[str, Any] = {}
    p = subprocess.run([berth, *rest, "info", "--format", "json"], capture_output=True, text=True, check=False)
    try:
        info = json.loads(p.stdout) if p.returncode == 0 else {}
    except json.JSONDecodeError:
        info = {}
    if info:
        checks["info"] = _check(True, f"berth info: engine {info.get('ServerVersion', '?')}")
    else:
        checks["info"] = _check(not require_info,
                                f"berth info failed (exit {p.returncode}): {(p.stderr or p.stdout).strip()[:300]}")

    try:
        from engine.context import Config

        cfg = Config.load(config_path)
        checks["config"] = _check(True, f"{config_path} loads")
    except Exception as e:  # noqa: BLE001 - report whatever the engine's own loader says
        checks["config"] = _check(False, f"{config_path}: {e}")
        print(json.dumps({"ok": False, "checks": checks, "info": info or None}))
        return 0

    # runtime and conmon: as the engine resolved them, else as configured
    default_rt = info.get("DefaultRuntime") or cfg.runtime
    rt_path = (info.get("Runtimes") or {}).get(default_rt, {}).get("path") or _which(cfg.runtime)
    checks["runtime"] = _check(bool(rt_path), rt_path or f"runtime {cfg.runtime!r} not found")
    conmon = info.get("Conmon") or _which(cfg.conmon)
    checks["conmon"] = _check(bool(conmon), conmon or f"conmon {cfg.conmon!r} not found")
    init = _which(cfg.init_path)
    checks["init"] = _check(bool(init), init or f"init_path {cfg.init_path!r} not found")

    cg = str(info.get("CgroupVersion") or _cgroup_version() or "")
    checks["cgroup"] = _check(cg in ("1", "2"), f"cgroup v{cg}" if cg else "no cgroup filesystem found")

    nft = _which("nft")
    if info and not info.get("Nftables"):
        checks["nftables"] = _check(False, "berth info: nftables not available")
    elif nft is None:
        checks["nftables"] = _check(False, "nft not found")
    else:
        q = subprocess.run([nft, "-c", "add table inet berth_hostcheck"], capture_output=True, text=True, check=False)
        checks["nftables"] = _check(q.returncode == 0, nft if q.returncode == 0
                                    else f"nft -c refused a table: {q.stderr.strip()[:300]}")

    sp = info.get("SeccompProfile") or {}
    prof = Path(sp.get("Path") or cfg.seccomp_profile)
    if sp and not sp.get("Present"):
        checks["seccomp"] = _check(False, f"berth info: seccomp profile {str(prof)!r} missing")
    else:
        try:
            doc = json.loads(prof.read_text())
            ok = isinstance(doc, dict) and "syscalls" in doc
            checks["seccomp"] = _check(ok, str(prof) if ok else f"{prof} has no syscall rules")
        except (OSError, ValueError) as e:
            checks["seccomp"] = _check(False, f"seccomp_profile {str(prof)!r}: {e}")

    print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "checks": checks, "info": info or None}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
