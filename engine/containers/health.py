"""Healthchecks, with or without systemd: `berth _health ID RUN` is a small detached loop per
running container (started at start, in a systemd scope of its own where systemd is the init;
killed at exit) that runs the probe with `runc exec` on schedule and records Docker's
`State.Health` (Status starting/healthy/unhealthy, FailingStreak, Log)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.containers import api, execs, store
from engine.errors import BerthError, NotFound

if TYPE_CHECKING:
    from engine.context import Context

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
MAX_LOG = 5
MAX_OUTPUT = 4096


def _secs(ns: Any, default: float) -> float:
    return int(ns) / 1e9 if ns else default


def probe_argv(test: list[str]) -> list[str] | None:
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    if test[0] == "CMD":
        return list(test[1:])
    return list(test)


def record_result(rec: dict[str, Any], start: str, code: int, output: str, retries: int,
                  in_start_period: bool) -> None:
    h = rec["State"].setdefault("Health", {"Status": "starting", "FailingStreak": 0, "Log": []})
    h["Log"] = (h.get("Log") or [])[-(MAX_LOG - 1):] + [
        {"Start": start, "End": store.now(), "ExitCode": code, "Output": output}]
    if code == 0:
        h["Status"] = "healthy"
        h["FailingStreak"] = 0
    elif not in_start_period or h["Status"] != "starting":
        h["FailingStreak"] = int(h.get("FailingStreak") or 0) + 1
        if h["FailingStreak"] >= retries:
            h["Status"] = "unhealthy"


def loop(ctx: Context, cid: str, run: int) -> int:
    try:
        rec = store.load(ctx, cid)
    except NotFound:
        return 0
    hc = rec["Config"].get("Healthcheck") or {}
    argv = probe_argv(hc.get("Test") or [])
    if argv is None:
        return 0
    interval = _secs(hc.get("Interval"), DEFAULT_INTERVAL)
    timeout = _secs(hc.get("Timeout"), DEFAULT_TIMEOUT)
    retries = int(hc.get("Retries") or DEFAULT_RETRIES)
    start_period = _secs(hc.get("StartPeriod"), 0.0)
    started = time.monotonic()
    while True:
        time.sleep(interval)
        try:
            rec = store.load(ctx, cid)
        except NotFound:
            return 0
        if rec.get("_berth", {}).get("run") != run or not rec["State"]["Running"]:
            return 0
        if rec["State"].get("Paused"):
            continue
        begin = store.now()
        try:
            code, out, err = execs.exec_run(ctx, cid, argv, capture=True, timeout=timeout)
            output = (out + err).decode(errors="replace")[:MAX_OUTPUT]
            if code == -1:
                output = f"Health check exceeded timeout ({timeout:g}s)"
        except BerthError as e:
            if not api.live_running(ctx, rec):
                return 0
            code, output = -1, e.message
        in_sp = time.monotonic() - started < start_period

        def apply(r: dict[str, Any], begin: str = begin, code: int = code, output: str = output,
                  in_sp: bool = in_sp) -> bool:
            if r.get("_berth", {}).get("run") != run or not r["State"]["Running"]:
                return False
            record_result(r, begin, code, output, retries, in_sp)
            return True

        try:
            if not store.modify(ctx, cid, apply):
                return 0
        except NotFound:
            return 0
