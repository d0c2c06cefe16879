import subprocess
import sys

import pytest

from engine.cli import VERBS, main
from engine.context import Config, Context
from engine.errors import InvalidArgument


def test_help_lists_verbs(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("pull", "run", "apply", "network", "build"):
        assert f"  {verb} " in out


@pytest.mark.parametrize("argv,code", [([], 2), (["nosuchverb"], 2), (["--bogus"], 2), (["--root"], 2)])
def test_bad_invocations(argv, code):
    assert main(argv) == code


def test_root_flags_and_env(monkeypatch, tmp_path):
    monkeypatch.setenv("BERTH_ROOT", str(tmp_path / "r"))
    monkeypatch.setenv("BERTH_RUNROOT", str(tmp_path / "rr"))
    ctx = Context.from_env()
    assert ctx.root == tmp_path / "r" and ctx.runroot == tmp_path / "rr"
    ctx2 = Context.from_env(root=str(tmp_path / "x"))
    assert ctx2.root == tmp_path / "x"


def test_config_rejects_unknown_keys(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('insecure_registries = ["r:5000"]\nnosuch = 1\n')
    with pytest.raises(InvalidArgument, match="nosuch"):
        Config.load(p)
    p.write_text('insecure_registries = ["r:5000"]\n')
    assert Config.load(p).insecure_registries == ["r:5000"]


def test_every_verb_module_is_lazy():
    """`berth --version` must not import any verb module, pydantic or pyroute2."""
    code = ("import sys; from engine.cli import main; main(['--version']); "
            "bad = [m for m in sys.modules if m.startswith(('pydantic', 'pyroute2', 'engine.cli.'))]; "
            "print(bad); raise SystemExit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert all(isinstance(m, str) for m, _ in VERBS.values())


def test_cli_takes_roots_from_env_and_flags(tmp_path):
    """The real CLI: BERTH_ROOT/BERTH_RUNROOT/BERTH_CONFIG choose the dirs, flags win over them."""
    import json
    import os

    (tmp_path / "c.toml").write_text("")
    env = {**os.environ, "BERTH_ROOT": str(tmp_path / "env-root"), "BERTH_RUNROOT": str(tmp_path / "env-run"),
           "BERTH_CONFIG": str(tmp_path / "c.toml")}

    def info(*flags: str) -> dict:
        p = subprocess.run([sys.executable, "-m", "engine", *flags, "info", "--format", "json"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    i = info()
    assert (i["DockerRootDir"], i["RunRoot"], i["ConfigFile"]) == (
        str(tmp_path / "env-root"), str(tmp_path / "env-run"), str(tmp_path / "c.toml"))
    i = info("--root", str(tmp_path / "flag-root"), "--runroot", str(tmp_path / "flag-run"))
    assert (i["DockerRootDir"], i["RunRoot"]) == (str(tmp_path / "flag-root"), str(tmp_path / "flag-run"))
