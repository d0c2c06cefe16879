"""What each module sends to `berth apply` and how it turns the answer into a result: run the
real module main() with patch_module_args, the engine call faked at run_command (the edge)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Engine:
    """Stands in for `berth` at AnsibleModule.run_command: records calls, answers from a script."""

    def __init__(self, answer: tuple[int, Any, str] = (0, None, "")) -> None:
        self.calls: list[tuple[list[str], dict[str, Any] | None]] = []
        self.answer = answer

    def __call__(self, module: Any, args: list[str], data: Any = None, **kwargs: Any) -> tuple[int, str, str]:
        self.calls.append((list(args), json.loads(data) if data else None))
        rc, out, err = self.answer
        if out is None:
            out = {"changed": True, "actions": ["created"], "diff": {"before": {"state": "absent"},
                   "after": {"state": "running"}}, "resource": {"Id": "abc"}, "warnings": []}
        return rc, out if isinstance(out, str) else json.dumps(out), err

    @property
    def request(self) -> dict[str, Any]:
        assert len(self.calls) == 1
        return self.calls[0][1] or {}


@pytest.fixture
def berth(tmp_path: Path) -> str:
    path = tmp_path / "berth"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def run(module: str, args: dict[str, Any], engine: Engine, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    monkeypatch.setattr(basic.AnsibleModule, "run_command",
                        lambda self, args, **kwargs: engine(self, args, **kwargs))
    mod = importlib.import_module(f"ansible_collections.berth.engine.plugins.modules.{module}")
    with patch_module_args(args), pytest.raises(SystemExit):
        mod.main()
    return json.loads(capsys.readouterr().out)


def test_container_request_has_only_what_was_set(berth, monkeypatch, capsys) -> None:
    eng = Engine()
    out = run("container", {"name": "web", "image": "busybox", "memory": "64m", "ports": ["8080:80"],
                            "berth_path": berth, "root": "/r", "_ansible_diff": True}, eng, monkeypatch, capsys)
    argv, req = eng.calls[0]
    assert argv == [berth, "--root", "/r", "apply"]
    assert req["api"] == 1
    assert req["kind"] == "container"
    assert req["state"] == "started"
    assert req["check"] is False
    spec = req["spec"]
    assert spec["name"] == "web" and spec["memory"] == "64m"
    assert spec["published_ports"] == ["8080:80"]  # the alias resolved
    assert "ports" not in spec and "env" not in spec and "labels" not in spec
    assert "berth_path" not in spec and "root" not in spec and "state" not in spec
    assert "options" not in req
    assert out["changed"] is True
    assert out["actions"] == ["created"]
    assert out["container"] == {"Id": "abc"}
    assert out["diff"] == {"before": {"state": "absent"}, "after": {"state": "running"}}


def test_check_mode_is_passed_to_the_engine(berth, monkeypatch, capsys) -> None:
    eng = Engine()
    run("container", {"name": "web", "berth_path": berth, "_ansible_check_mode": True}, eng, monkeypatch, capsys)
    assert eng.request["check"] is True


def test_no_diff_returned_without_diff_mode(berth, monkeypatch, capsys) -> None:
    out = run("container", {"name": "web", "berth_path": berth}, Engine(), monkeypatch, capsys)
    assert "diff" not in out


@pytest.mark.parametrize("module, args, operation, spec", [
    ("image", {"name": "busybox", "source": "pull"}, "present",
     {"name": "busybox", "tag": "latest", "source": "pull"}),
    ("image_pull", {"name": "busybox", "tag": "1.36"}, "pull", {"name": "busybox", "tag": "1.36", "pull": "always"}),
    ("image_push", {"name": "r/x"}, "push", {"name": "r/x", "tag": "latest"}),
    ("image_tag", {"name": "a", "repository": ["b:1"]}, "tag",
     {"name": "a", "tag": "latest", "repository": ["b:1"], "existing_tags": "keep"}),
    ("image_remove", {"name": "a"}, "remove", {"name": "a", "tag": "latest", "force": False, "prune": True}),
    ("image_load", {"path": "/x.tar"}, "load", {"path": "/x.tar"}),
    ("image_export", {"name": ["a"], "path": "/x.tar"}, "export",
     {"names": ["a"], "tag": "latest", "path": "/x.tar", "force": False}),
])
def test_image_modules_select_their_operation(berth, monkeypatch, capsys, module, args, operation, spec) -> None:
    eng = Engine()
    run(module, {**args, "berth_path": berth}, eng, monkeypatch, capsys)
    req = eng.request
    assert req["kind"] == "image"
    assert req["options"] == {"operation": operation}
    for key, value in spec.items():
        assert req["spec"][key] == value
    if module != "image":
        assert "state" not in req


@pytest.mark.parametrize("module, args, spec", [
    ("container_info", {"name": "web"}, {"type": "container", "name": "web"}),
    ("network_info", {"name": "n"}, {"type": "network", "name": "n"}),
    ("volume_info", {"volume_name": "v"}, {"type": "volume", "name": "v"}),
    ("image_info", {"name": ["a", "b"]}, {"type": "image", "names": ["a", "b"]}),
    ("host_info", {"containers": True}, {"type": "host", "containers": True, "images": False}),
])
def test_info_modules(berth, monkeypatch, capsys, module, args, spec) -> None:
    eng = Engine((0, {"changed": False, "exists": True, "resource": {"Name": "x"}, "images": []}, ""))
    out = run(module, {**args, "berth_path": berth}, eng, monkeypatch, capsys)
    assert eng.request["kind"] == "info"
    for key, value in spec.items():
        assert eng.request["spec"][key] == value
    assert out["changed"] is False


def test_login_password_is_sent_but_never_returned(berth, monkeypatch, capsys) -> None:
    eng = Engine((0, {"changed": True, "actions": ["logged in r"], "resource": {"registry": "r", "username": "u"}}, ""))
    out = run("login", {"registry_url": "r", "username": "u", "password": "s3cret", "berth_path": berth},
              eng, monkeypatch, capsys)
    assert eng.request["spec"]["password"] == "s3cret"
    assert "s3cret" not in json.dumps(out)
    assert out["login_result"] == {"registry": "r", "username": "u"}


def test_exec_returns_output(berth, monkeypatch, capsys) -> None:
    eng = Engine((0, {"changed": True, "actions": ["executed"], "rc": 3, "stdout": "hi", "stderr": ""}, ""))
    out = run("container_exec", {"container": "web", "command": "echo hi", "berth_path": berth},
              eng, monkeypatch, capsys)
    assert eng.request["kind"] == "exec"
    assert eng.request["spec"]["command"] == "echo hi"
    assert (out["rc"], out["stdout"]) == (3, "hi")


def test_engine_error_becomes_failure_with_field(berth, monkeypatch, capsys) -> None:
    err = {"error": {"type": "invalid", "message": "spec.memory: invalid size '12x'", "field": "spec.memory"}}
    out = run("container", {"name": "web", "memory": "12x", "berth_path": berth}, Engine((2, err, "")),
              monkeypatch, capsys)
    assert out["failed"] is True
    assert out["msg"] == "spec.memory: invalid size '12x'"
    assert out["field"] == "memory"
    assert out["error_type"] == "invalid"


def test_boolean_env_is_refused_before_the_engine_runs(berth, monkeypatch, capsys) -> None:
    eng = Engine()
    out = run("container", {"name": "web", "env": {"DEBUG": True}, "berth_path": berth}, eng, monkeypatch, capsys)
    assert out["failed"] is True
    assert out["field"] == "env"
    assert "DEBUG" in out["msg"]
    assert eng.calls == []


def test_missing_engine_names_the_host_role(tmp_path, monkeypatch, capsys) -> None:
    eng = Engine()
    out = run("volume", {"name": "v", "berth_path": str(tmp_path / "nope")}, eng, monkeypatch, capsys)
    assert out["failed"] is True
    assert "berth.engine.host" in out["msg"]
    assert str(tmp_path / "nope") in out["msg"]
    assert eng.calls == []


def test_api_mismatch_names_the_host_role(berth, monkeypatch, capsys) -> None:
    err = {"error": {"type": "api_mismatch", "message": "engine speaks berth apply API 0, request uses 1",
                     "field": "api"}}
    out = run("volume", {"name": "v", "berth_path": berth}, Engine((2, err, "")), monkeypatch, capsys)
    assert out["failed"] is True
    assert "berth.engine.host" in out["msg"]


def test_engine_without_apply_is_too_old(berth, monkeypatch, capsys) -> None:
    out = run("network", {"name": "n", "berth_path": berth},
              Engine((2, "", "berth: unknown verb 'apply'; run 'berth --help'")), monkeypatch, capsys)
    assert out["failed"] is True
    assert "too old" in out["msg"] and "berth.engine.host" in out["msg"]


def test_engine_warnings_become_module_warnings(berth, monkeypatch, capsys) -> None:
    eng = Engine((0, {"changed": False, "actions": [], "resource": {}, "warnings": ["careful"]}, ""))
    out = run("volume", {"name": "v", "berth_path": berth}, eng, monkeypatch, capsys)
    assert "careful" in json.dumps(out["warnings"])


@pytest.mark.parametrize("args, field", [
    ({"userns_mode": "host"}, "userns_mode"),
    ({"links": ["db:db"]}, "links"),
    ({"networks": [{"name": "app", "ipv6_address": "fd00::2"}]}, "networks.0.ipv6_address"),
    ({"mounts": [{"target": "/m", "consistency": "cached"}]}, "mounts.0.consistency"),
])
def test_docker_container_options_berth_lacks_are_refused_by_name(berth, monkeypatch, capsys, args,
                                                                   field) -> None:
    eng = Engine()
    out = run("container", {"name": "web", "image": "busybox", "berth_path": berth, **args}, eng, monkeypatch,
              capsys)
    assert out["failed"] is True and out["field"] == field
    assert f"{field.split('.')[0]}" in out["msg"] and "not supported by Berth" in out["msg"]
    assert eng.calls == []  # refused before the engine runs


def test_a_typo_keeps_ansibles_own_message(berth, monkeypatch, capsys) -> None:
    eng = Engine()
    out = run("container", {"name": "web", "berth_path": berth, "imagee": "x"}, eng, monkeypatch, capsys)
    assert out["failed"] is True and "imagee" in out["msg"] and eng.calls == []


def test_volumes_from_and_fixed_behaviour_options_reach_the_engine(berth, monkeypatch, capsys) -> None:
    eng = Engine()
    run("container", {"name": "web", "berth_path": berth, "volumes_from": ["data:ro"],
                      "command_handling": "correct", "container_default_behavior": "no_defaults",
                      "networks_cli_compatible": True}, eng, monkeypatch, capsys)
    spec = eng.request["spec"]
    assert spec["volumes_from"] == ["data:ro"]
    assert (spec["command_handling"], spec["container_default_behavior"], spec["networks_cli_compatible"]) == \
        ("correct", "no_defaults", True)


def test_module_and_engine_refuse_the_same_docker_container_options() -> None:
    from engine.apply import container_options as co

    mod = importlib.import_module("ansible_collections.berth.engine.plugins.module_utils._container")
    assert co.UNSUPPORTED <= mod.UNSUPPORTED
    assert not mod.UNSUPPORTED & set(mod.OPTIONS)
