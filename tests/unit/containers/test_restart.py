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


def test_scope_argv_modes(tmp_path, monkeypatch):
    import os
    import shutil

    import pytest

    from engine.containers import runtime
    from engine.context import Context
    from engine.errors import InvalidArgument

    def ctx(mode: str) -> Context:
        cfg = tmp_path / f"{mode}.toml"
        cfg.write_text(f'systemd_scopes = "{mode}"\n')
        return Context(tmp_path / "r", tmp_path / "rr", cfg)

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/systemd-run")
    monkeypatch.setattr(os.path, "isdir", lambda p: False)  # not booted with systemd
    assert runtime.scope_argv(ctx("auto"), "conmon", "ab" * 32) == []
    assert runtime.scope_argv(ctx("no"), "conmon", "ab" * 32) == []
    argv = runtime.scope_argv(ctx("yes"), "health", "ab" * 32)
    assert argv[:4] == ["/usr/bin/systemd-run", "--scope", "--quiet", "--collect"] and argv[-1] == "--"
    assert argv[4].startswith("--unit=berth-health-abababababab-")
    monkeypatch.setattr(os.path, "isdir", lambda p: p == "/run/systemd/system")
    a1, a2 = runtime.scope_argv(ctx("auto"), "conmon", "ab" * 32), runtime.scope_argv(ctx("auto"), "conmon", "ab" * 32)
    assert a1[1] == "--scope" and a1[4] != a2[4]  # a unit name per start
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert runtime.scope_argv(ctx("auto"), "conmon", "ab" * 32) == []
    with pytest.raises(InvalidArgument) as e:
        runtime.scope_argv(ctx("yes"), "conmon", "ab" * 32)
    assert e.value.field == "systemd_scopes"
    with pytest.raises(InvalidArgument):
        runtime.scope_argv(ctx("maybe"), "conmon", "ab" * 32)
