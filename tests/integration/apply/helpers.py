"""Shared steps for `berth apply` integration tests: every real run is preceded by a check run
that must predict it exactly, and followed by a rerun that must change nothing."""

from __future__ import annotations

from typing import Any

PLAN_KEYS = ("changed", "actions", "diff")


def plan(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in PLAN_KEYS}


def request(kind: str, spec: dict[str, Any], state: str | None = None, **extra: Any) -> dict[str, Any]:
    req: dict[str, Any] = {"api": 1, "kind": kind, "spec": spec, "diff": True, **extra}
    if state:
        req["state"] = state
    return req


def converge(host: Any, req: dict[str, Any], snapshot: Any = None) -> dict[str, Any]:
    """check → real (check predicted it; check changed nothing) → rerun (not changed)."""
    before = snapshot() if snapshot else None
    rc, predicted = host.apply({**req, "check": True})
    assert rc == 0, predicted
    if snapshot:
        assert snapshot() == before, "check mode changed the host"
    rc, real = host.apply(req)
    assert rc == 0, real
    assert plan(predicted) == plan(real)
    rc, again = host.apply(req)
    assert rc == 0, again
    assert plan(again) == {"changed": False, "actions": [], "diff": {"before": {}, "after": {}}}, again
    # a steady-state rerun (answered from the no-op memo where the resource kind has one) agrees
    rc, memo = host.apply(req)
    assert rc == 0 and plan(memo) == plan(again), memo
    return real


def refused(host: Any, req: dict[str, Any], field: str, snapshot: Any = None) -> dict[str, Any]:
    """Bad input: exit 2, the error names the field (and the value), nothing changed."""
    before = snapshot() if snapshot else None
    rc, out = host.apply(req)
    assert rc == 2, out
    err = out["error"]
    assert err["field"] == field and field in err["message"], err
    if snapshot:
        assert snapshot() == before
    return err


def ok(host: Any, req: dict[str, Any]) -> dict[str, Any]:
    """One real run that must succeed (set-up and clean-up steps that other tests converge)."""
    rc, out = host.apply(req)
    assert rc == 0, out
    return out
