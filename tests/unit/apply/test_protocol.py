"""The request envelope, spec validation messages, the CLI's exit codes and the shipped schemas."""

import io
import json
import sys

import pytest

from engine.apply import models
from engine.apply.run import check_envelope
from engine.apply.schema import SCHEMA_DIR, render
from engine.cli import main
from engine.errors import InvalidArgument


@pytest.mark.parametrize("name", sorted(models.SPECS))
def test_shipped_schema_matches_models(name):
    """engine/schemas/*.json are generated: run `python -m engine.apply.schema` after a model change."""
    assert (SCHEMA_DIR / f"{name}.json").read_text() == render(name)


def test_no_stray_schema_files():
    assert {p.stem for p in SCHEMA_DIR.glob("*.json")} == set(models.SPECS)


@pytest.mark.parametrize("req,field,text", [
    ([], "request", "JSON object"),
    ({"kind": "container"}, "api", "api"),
    ({"api": 2, "kind": "container"}, "api", "berth.engine.host"),
    ({"api": True, "kind": "container"}, "api", "berth.engine.host"),
    ({"api": 1, "kind": "widget"}, "kind", "'widget'"),
    ({"api": 1, "kind": "volume", "extra": 1}, "extra", "'extra'"),
    ({"api": 1, "kind": "volume", "check": "yes"}, "check", "'yes'"),
    ({"api": 1, "kind": "volume", "options": {"operation": "pull"}}, "options.operation", "'operation'"),
    ({"api": 1, "kind": "image", "options": {"operation": "fly"}}, "options.operation", "'fly'"),
    ({"api": 1, "kind": "image", "spec": []}, "spec", "object"),
])
def test_envelope_errors(req, field, text):
    with pytest.raises(InvalidArgument) as e:
        check_envelope(req)
    assert e.value.field == field and text in e.value.message


def test_envelope_defaults():
    env = check_envelope({"api": 1, "kind": "container", "spec": {"name": "x", "user": None}})
    assert env["state"] == "started" and env["check"] is False and env["spec"] == {"name": "x"}
    assert check_envelope({"api": 1, "kind": "volume"})["state"] == "present"


@pytest.mark.parametrize("schema,spec,field,text", [
    ("container", {"name": "x", "runtime": "kata"}, "spec.runtime", "not supported by Berth"),
    ("container", {"name": "x", "memry": "1g"}, "spec.memry", "did you mean 'memory'"),
    ("container", {"name": "x", "pull": "sometimes"}, "spec.pull", "'sometimes'"),
    ("container", {"name": "x", "cpus": "lots"}, "spec.cpus", "'lots'"),
    ("container", {"name": "x", "networks": [{"name": "n", "ipv6_address": "::1"}]},
     "spec.networks.0.ipv6_address", "not supported by Berth"),
    ("container", {"image": "busybox"}, "spec.name", "missing"),
    ("container", {"name": "x", "comparisons": {"env": "loose"}}, "spec.comparisons.env", "'loose'"),
    ("network", {"name": "n", "ipam_config": [{"subnet": "x", "bogus": 1}]}, "spec.ipam_config.0.bogus",
     "'bogus'"),
    ("image", {"name": "x", "build": {"path": "/", "squash": True}}, "spec.build.squash", "'squash'"),
])
def test_spec_errors_name_field_and_value(schema, spec, field, text):
    with pytest.raises(InvalidArgument) as e:
        models.validate(schema, spec)
    assert e.value.field == field
    assert text in e.value.message and e.value.message.startswith(field)


def test_password_never_in_errors():
    with pytest.raises(InvalidArgument) as e:
        models.validate("login", {"username": "u", "password": ["s3cr3t"]})
    assert "s3cr3t" not in e.value.message


def _cli(argv, stdin):
    old_in, old_out = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(stdin), io.StringIO()
    try:
        code = main(argv)
        return code, sys.stdout.getvalue()
    finally:
        sys.stdin, sys.stdout = old_in, old_out


@pytest.mark.parametrize("stdin,code,etype", [
    ("not json", 2, "invalid"),
    (json.dumps({"api": 9, "kind": "container"}), 2, "api_mismatch"),
    (json.dumps({"api": 1, "kind": "container", "spec": {"name": "x", "memory": "12x"}}), 2, "invalid"),
])
def test_cli_errors_on_stdout(tmp_path, stdin, code, etype):
    rc, out = _cli(["--root", str(tmp_path / "r"), "--runroot", str(tmp_path / "rr"), "apply"], stdin)
    assert rc == code
    assert json.loads(out)["error"]["type"] == etype


def test_cli_schema(capsys):
    assert main(["schema", "container"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "memory" in schema["properties"] and schema["additionalProperties"] is False
    assert main(["schema"]) == 0
    assert "image_pull" in capsys.readouterr().out.split()
    assert main(["schema", "nope"]) == 2


def test_docs_list_every_container_option():
    """docs/apply.md is the contract E2 and G build against: every option row must be there."""
    from pathlib import Path

    from engine.apply import container_options as co

    text = (Path(__file__).resolve().parents[3] / "docs" / "apply.md").read_text()
    missing = [o.name for o in co.OPTIONS if f"| `{o.name}` |" not in text]
    assert missing == []
    missing = [b for b in co.BEHAVIOUR if f"`{b}`" not in text]
    assert missing == []


def test_concurrent_applies_of_one_resource_take_turns(tmp_path):
    from engine.apply.run import _lock_name

    assert _lock_name("container", {"name": "web/../x"}) == "apply-container-web_.._x"
    assert _lock_name("volume", {"volume_name": "v"}) == "apply-volume-v"
    assert _lock_name("exec", {"container": "web"}) is None


def test_numbers_are_accepted_for_string_options():
    """YAML and Pulumi hand over `user: 1000` or `cpuset_cpus: 0` as numbers."""
    s = models.validate("container", {"name": "x", "user": 1000, "cpuset_cpus": 0, "memory": 5})
    assert (s.user, s.cpuset_cpus, s.memory) == ("1000", "0", 5)


def test_start_up_imports_stay_light():
    """`berth schema` never needs pydantic; the apply verb imports it only once it handles a request."""
    import subprocess

    code = ("import sys, io, contextlib\n"
            "import engine.cli.apply_cmds\n"
            "assert 'pydantic' not in sys.modules, 'apply_cmds imported pydantic'\n"
            "from engine.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['schema', 'container'])\n"
            "heavy = [m for m in ('pydantic', 'pyroute2', 'zstandard', 'http.client') if m in sys.modules]\n"
            "assert heavy == [], heavy\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_stray_output_during_apply_goes_to_stderr(tmp_path, monkeypatch):
    """stdout carries exactly one JSON document even if engine code (or a child) prints."""
    import subprocess

    code = ("import sys, engine.apply.run as r\n"
            "def noisy(ctx, req):\n"
            "    print('progress...')\n"
            "    import subprocess; subprocess.run(['echo', 'child output'])\n"
            "    return {'changed': False}\n"
            "r.handle = noisy\n"
            "from engine.cli import main\n"
            f"sys.exit(main(['--root', '{tmp_path}/r', '--runroot', '{tmp_path}/rr', 'apply']))\n")
    p = subprocess.run([sys.executable, "-c", code], input="{}", capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"changed": False}
    assert "progress..." in p.stderr and "child output" in p.stderr
