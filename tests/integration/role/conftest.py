"""Fixtures for the host role's tests: a wheelhouse (the engine's wheel and its dependencies'
wheels, so a host needs no PyPI) and an empty package index to point pip at."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.role.ansible_runner import REPO

MKWHEEL = REPO / "roles" / "host" / "files" / "mkwheel.py"


@pytest.fixture(scope="session")
def wheelhouse() -> Iterator[Path]:
    """The engine's wheel plus wheels of everything it depends on (pip download, cached by pip)."""
    d = Path(tempfile.mkdtemp(prefix="berth-wheelhouse-", dir="/var/tmp"))
    try:
        deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                        "--only-binary=:all:", "-d", str(d), *deps], check=True, timeout=300)
        out = subprocess.run([sys.executable, str(MKWHEEL), "--source", str(REPO), "--out", str(d)],
                             check=True, capture_output=True, text=True).stdout
        assert json.loads(out)["name"].endswith("-py3-none-any.whl")
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def empty_index(tmp_path: Path) -> str:
    """A package index with nothing in it: pip finds no package there."""
    idx = tmp_path / "empty-index"
    idx.mkdir()
    return idx.as_uri()
