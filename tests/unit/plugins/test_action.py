"""When the action plugins run `berth apply` directly and when they fall back to the module
(the connection and task are faked: they are the edge; the paths themselves run end to end in
tests/integration/ansible/test_playbooks.py::test_direct_path_and_module_fallback)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from ansible.module_utils import _internal


def _import_action() -> Any:
    """The controller-side plugin, imported without leaving this process in controller mode
    (which would send the module tests' warnings to Display instead of the module result)."""
    was = _internal.is_controller
    try:
        return importlib.import_module("ansible_collections.berth.engine.plugins.plugin_utils._apply_action")
    finally:
        _internal.is_controller = was


act = _import_action()


def action(module: str = "container", args: dict[str, Any] | None = None, async_val: int = 0,
           shell: str = "sh", has_pipelining: bool = True, become: Any = None, pipelining: bool = False) -> Any:
    a = object.__new__(act.ApplyAction)
    a.MODULE = module
    a._task = SimpleNamespace(args=args or {"name": "web"}, async_val=async_val)
    a._connection = SimpleNamespace(_shell=SimpleNamespace(SHELL_FAMILY=shell), has_pipelining=has_pipelining,
                                    become=become, is_pipelining_enabled=lambda: pipelining, transport="ssh")
    return a


def blocker(a: Any, task_vars: dict[str, Any] | None = None) -> str | None:
    return a.fast_path_blocker(act.MODULES[a.MODULE], task_vars or {})


def test_every_module_has_an_action_plugin_and_a_definition() -> None:
    from tests.integration.ansible.runner import REPO
    modules = {p.stem for p in (REPO / "plugins" / "modules").glob("*.py")}
    assert {p.stem for p in (REPO / "plugins" / "action").glob("*.py")} == modules
    assert set(act.MODULES) == modules


def test_direct_path_by_default() -> None:
    assert blocker(action()) is None
    assert blocker(action(become=object(), pipelining=True)) is None


@pytest.mark.parametrize("kwargs, task_vars, reason", [
    ({}, {"berth_engine_fast_path": "no"}, "berth_engine_fast_path is false"),
    ({"async_val": 30}, {}, "async"),
    ({"shell": "powershell"}, {}, "not POSIX"),
    ({"has_pipelining": False}, {}, "cannot send stdin"),
    ({"become": object(), "pipelining": False}, {}, "become without pipelining"),
    ({"args": {"name": "web", "env_file": "~/web.env"}}, {}, "env_file must be expanded"),
    ({"args": {"name": "web", "berth_path": "$HOME/bin/berth"}}, {}, "berth_path must be expanded"),
    ({"module": "image", "args": {"name": "a", "build": {"path": "~/ctx"}}}, {}, "build.path must be expanded"),
])
def test_falls_back_to_the_module(kwargs: dict[str, Any], task_vars: dict[str, Any], reason: str) -> None:
    assert reason in (blocker(action(**kwargs), task_vars) or "")


def test_plain_paths_and_non_path_options_stay_direct() -> None:
    assert blocker(action(args={"name": "web", "env_file": "/etc/web.env", "command": "echo $HOME ~"})) is None
