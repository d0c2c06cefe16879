"""Healthcheck bookkeeping: Docker's State.Health transitions and probe commands."""

from __future__ import annotations

import pytest

from engine.containers import config, health
from engine.errors import InvalidArgument


def rec():
    return {"State": {"Health": {"Status": "starting", "FailingStreak": 0, "Log": []}}}


@pytest.mark.parametrize("test,argv", [
    (["CMD-SHELL", "curl -f localhost"], ["/bin/sh", "-c", "curl -f localhost"]),
    (["CMD", "true", "x"], ["true", "x"]),
    (["NONE"], None),
    ([], None),
])
def test_probe_argv(test, argv):
    assert health.probe_argv(test) == argv


def test_transitions_and_log_cap():
    r = rec()
    health.record_result(r, "t0", 1, "no", retries=2, in_start_period=False)
    assert r["State"]["Health"]["Status"] == "starting" and r["State"]["Health"]["FailingStreak"] == 1
    health.record_result(r, "t1", 1, "no", retries=2, in_start_period=False)
    assert r["State"]["Health"]["Status"] == "unhealthy"
    health.record_result(r, "t2", 0, "ok", retries=2, in_start_period=False)
    h = r["State"]["Health"]
    assert h["Status"] == "healthy" and h["FailingStreak"] == 0 and h["Log"][-1]["Output"] == "ok"
    for i in range(10):
        health.record_result(r, f"t{i}", 0, "ok", retries=2, in_start_period=False)
    assert len(r["State"]["Health"]["Log"]) == health.MAX_LOG


def test_start_period_failures_do_not_count():
    r = rec()
    for _ in range(5):
        health.record_result(r, "t", 1, "no", retries=1, in_start_period=True)
    assert r["State"]["Health"]["Status"] == "starting" and r["State"]["Health"]["FailingStreak"] == 0


def test_healthcheck_merge_body_over_image():
    img = {"Test": ["CMD", "true"], "Interval": 30_000_000_000, "Retries": 3}
    merged = config.healthcheck({"Interval": 1_000_000_000}, img)
    assert merged == {"Test": ["CMD", "true"], "Interval": 1_000_000_000, "Retries": 3}
    assert config.healthcheck({"Test": ["NONE"]}, img)["Test"] == ["NONE"]
    with pytest.raises(InvalidArgument):
        config.healthcheck({"Test": ["BOGUS"]}, None)
