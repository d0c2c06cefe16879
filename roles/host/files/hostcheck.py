#!/usr/bin/env python3
"""Check that this host can run Berth containers; print one JSON document.

Run by the role berth.engine.host with the engine's own interpreter
({{ berth_prefix }}/bin/python), so it reads the configuration exactly like the engine does.
It asks `berth info --format json` first and checks the host directly for what the answer does
not cover: the OCI runtime and conmon are found, the cgroup version is known, nftables accepts a
table (checked with `nft -c`, nothing is changed), the seccomp profile is present and valid JSON.

Usage: hostcheck.py [--no-info] BERTH [--root DIR] [--runroot DIR] [--config FILE]
  --no-info   do not require `berth info` to answer (the direct checks still run)
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


def main(argv: list[str]) -> int:
    require_info = True
    if argv and argv[0] == "--no-info":
        require_info, argv = False, argv[1:]
    berth, rest = argv[0], argv[1:]
    config_path = "/etc/berth/config.toml"
    if "--config" in rest:
        config_path = rest[rest.index("--config") + 1]
    checks: dict[str, dict[str, Any]] = {}

    info: dict[str, Any] | None = None
    p = subprocess.run([berth, *rest, "info", "--format", "json"], capture_output=True, text=True)
    if p.returncode == 0:
        try:
            info = json.loads(p.stdout)
        except json.JSONDecodeError:
            info = None
    checks["info"] = {"ok": info is not None or not require_info,
                      "detail": "berth info answered" if info is not None
                      else f"berth info failed (exit {p.returncode}): {(p.stderr or p.stdout).strip()[:300]}"}

    try:
        from engine.context import Config

        cfg = Config.load(config_path)
        checks["config"] = {"ok": True, "detail": f"{config_path} loads"}
    except Exception as e:  # noqa: BLE001 - report any failure of the engine's own loader
        print(json.dumps({"ok": False, "checks": {"config": {"ok": False, "detail": str(e)}}}))
        return 0

    runtime = _which(cfg.runtime)
    checks["runtime"] = {"ok": runtime is not None, "detail": runtime or f"runtime {cfg.runtime!r} not found"}
    conmon = _which(cfg.conmon)
    checks["conmon"] = {"ok": conmon is not None, "detail": conmon or f"conmon {cfg.conmon!r} not found"}
    init = _which(cfg.init_path)
    checks["init"] = {"ok": init is not None, "detail": init or f"init_path {cfg.init_path!r} not found"}

    cg = str(info.get("CgroupVersion")) if info and info.get("CgroupVersion") else _cgroup_version()
    checks["cgroup"] = {"ok": cg in ("1", "2"), "detail": f"cgroup v{cg}" if cg else "no cgroup filesystem"}

    nft = _which("nft")
    if nft is None:
        checks["nftables"] = {"ok": False, "detail": "nft not found"}
    else:
        q = subprocess.run([nft, "-c", "add table inet berth_hostcheck"], capture_output=True, text=True)
        checks["nftables"] = {"ok": q.returncode == 0,
                              "detail": nft if q.returncode == 0 else f"nft -c failed: {q.stderr.strip()[:300]}"}

    prof = Path(cfg.seccomp_profile)
    try:
        doc = json.loads(prof.read_text())
        ok = isinstance(doc, dict) and "syscalls" in doc
        checks["seccomp"] = {"ok": ok, "detail": str(prof) if ok else f"{prof} is not a seccomp profile"}
    except (OSError, ValueError) as e:
        checks["seccomp"] = {"ok": False, "detail": f"seccomp_profile {str(prof)!r}: {e}"}

    print(json.dumps({"ok": all(c["ok"] for c in checks.values()), "checks": checks, "info": info}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
