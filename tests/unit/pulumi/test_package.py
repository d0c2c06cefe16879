"""pulumi_berth installs on its own: it imports nothing from the repository (engine, tests) and
nothing third-party beyond the dependencies its pyproject.toml declares."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

PKG = Path(__file__).resolve().parents[3] / "pulumi_provider"


def test_imports_without_the_repository() -> None:
    code = ("import sys\n"
            "for m in ('engine', 'tests', 'plugins'): sys.modules[m] = None  # importing them fails\n"
            "import pulumi_berth, pulumi_berth.testing, pulumi_berth._context\n"
            "print(sorted(pulumi_berth.__all__))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True)
    assert "ContainerProvider" in out.stdout


def test_third_party_imports_are_declared() -> None:
    meta = tomllib.loads((PKG / "pyproject.toml").read_text())
    declared = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in meta["project"]["dependencies"]}
    used: set[str] = set()
    for f in (PKG / "pulumi_berth").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                used |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                used.add(node.module.split(".")[0])
    third_party = {m for m in used if m not in sys.stdlib_module_names and m != "pulumi_berth"}
    assert third_party <= declared, third_party - declared
    assert meta["tool"]["setuptools"]["packages"]["find"]["include"] == ["pulumi_berth*"]
