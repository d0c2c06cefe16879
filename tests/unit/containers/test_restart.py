"""Restart policy decisions and Docker's growing back-off."""

from __future__ import annotations

import pytest

from engine.containers import api


def rec(policy, code, count=0, user_stopped=False, auto_remove=False):
    name, _, n = policy.partition(":")
    return {"HostConfig": {"RestartPolicy": {"Name": name, "MaximumRetryCount": int(n or 0)},
                           "AutoRemove": auto_remove},
            "State": {"ExitCode": code}, "RestartCount": count, "_berth": {"user_stopped": user_stopped}}


@pytest.mark.parametrize("r,want", [
    (rec("no", 1), False),
    (rec("always", 0), True),
    (rec("always", 0, user_stopped=True), False),
    (rec("unless-stopped", 137), True),
    (rec("on-failure", 0), False),
    (rec("on-failure", 2), True),
    (rec("on-failure:3", 1, count=2), True),
    (rec("on-failure:3", 1, count=3), False),
    (rec("no", 0, auto_remove=True), False),
])
def test_should_restart(r, want):
    assert api.should_restart(r) is want


def test_backoff_grows_caps_and_resets():
    delays = []
    d = 0.0
    for _ in range(12):
        d = api.next_backoff(d, ran_seconds=0.5)
        delays.append(d)
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8]
    assert delays[-1] == 60.0
    assert api.next_backoff(60.0, ran_seconds=12) == 0.1
