"""Each module's options are declared once (module_utils, as data); its DOCUMENTATION must
describe exactly that declaration, and every option must be one the engine's request schema
knows (engine/schemas/<kind>.json, generated from the pydantic models)."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.ansible.runner import REPO

MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
ENGINE_OPTIONS = {"berth_path", "root", "runroot", "config"}


def _literal(path: Path, name: str) -> Any:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no {name}")


def _fragment_options(name: str) -> dict[str, Any]:
    short = name.split(".")[-1]
    doc = _literal_class_attr(REPO / "plugins" / "doc_fragments" / f"{short}.py")
    return yaml.safe_load(doc).get("options") or {}


def _literal_class_attr(path: Path) -> str:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no DOCUMENTATION")


def documentation(module: str) -> dict[str, Any]:
    doc = yaml.safe_load(_literal(REPO / "plugins" / "modules" / f"{module}.py", "DOCUMENTATION"))
    options = dict(doc.get("options") or {})
    for frag in doc.get("extends_documentation_fragment") or []:
        options.update(_fragment_options(frag))
    doc["options"] = options
    return doc


def argument_spec(module: str) -> dict[str, Any]:
    """The spec main() hands to AnsibleModule, found by intercepting AnsibleModule."""
    captured: dict[str, Any] = {}

    class Stop(Exception):
        pass

    def fake(*args: Any, **kwargs: Any) -> Any:
        captured.update(kwargs)
        raise Stop

    mod = importlib.import_module(f"ansible_collections.berth.engine.plugins.modules.{module}")
    berth = importlib.import_module("ansible_collections.berth.engine.plugins.module_utils._berth")
    orig, orig_refuse = berth.AnsibleModule, berth.ApplyModule._refuse_raw
    berth.AnsibleModule = fake
    berth.ApplyModule._refuse_raw = lambda self: None  # it reads the task's arguments, which there are none of here
    try:
        with pytest.raises(Stop):
            mod.main()
    finally:
        berth.AnsibleModule, berth.ApplyModule._refuse_raw = orig, orig_refuse
    return captured


def _norm(spec: dict[str, Any]) -> dict[str, Any]:
    """Documentation and argument spec in one comparable form."""
    out = {}
    for name, o in spec.items():
        entry = {
            "type": o.get("type", "str"),
            "required": bool(o.get("required", False)),
            "default": o.get("default"),
            "choices": [str(c) for c in o["choices"]] if o.get("choices") else None,
            "elements": o.get("elements"),
            "aliases": sorted(o.get("aliases") or []),
        }
        sub = o.get("options") or o.get("suboptions")
        if sub:
            entry["options"] = _norm(sub)
        out[name] = entry
    return out


@pytest.mark.parametrize("module", MODULES)
def test_documentation_matches_argument_spec(module: str) -> None:
    spec = argument_spec(module)["argument_spec"]
    assert _norm(documentation(module)["options"]) == _norm(spec)


@pytest.mark.parametrize("module", MODULES)
def test_documented_attributes_are_honest(module: str) -> None:
    doc = documentation(module)
    kwargs = argument_spec(module)
    check = doc["attributes"]["check_mode"]["support"]
    assert (check != "none") == bool(kwargs.get("supports_check_mode"))


@pytest.mark.parametrize("module", MODULES)
def test_password_options_are_no_log(module: str) -> None:
    for name, o in argument_spec(module)["argument_spec"].items():
        if "password" in name or "token" in name:
            assert o.get("no_log") is True


def _schema_for(module: str) -> tuple[str, dict[str, Any]]:
    stem = {
        "container_info": "info", "image_info": "info", "network_info": "info", "volume_info": "info",
        "host_info": "info", "container_exec": "exec",
    }.get(module, module)
    return stem, json.loads((REPO / "engine" / "schemas" / f"{stem}.json").read_text())


@pytest.mark.parametrize("module", MODULES)
def test_every_option_is_known_to_the_engine(module: str) -> None:
    stem, schema = _schema_for(module)
    known = set(schema.get("properties", {}))
    renamed = {"image_info": {"name": "names"}}.get(module, {})
    for name in argument_spec(module)["argument_spec"]:
        if name in ENGINE_OPTIONS or name == "state":
            continue
        assert renamed.get(name, name) in known, f"{module}: option {name} unknown to engine schema {stem}"
