"""Shared test plumbing. Fixture modules live in tests/fixtures/ and are loaded as plugins,
so every area's fixtures (registry, sshd, images...) are available to every test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

_FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}" for p in _FIXTURES.glob("*.py") if not p.name.startswith("_")
)

# What a `requires(...)` name needs to be true. Tests skip only where the thing is missing.
_CHECKS = {
    "root": lambda: os.geteuid() == 0,
    "runc": lambda: shutil.which("runc") is not None,
    "conmon": lambda: shutil.which("conmon") is not None,
    "nft": lambda: shutil.which("nft") is not None,
    "skopeo": lambda: shutil.which("skopeo") is not None,
    "registry": lambda: shutil.which("docker-registry") is not None,
    "sshd": lambda: Path("/usr/sbin/sshd").exists(),
    "busybox": lambda: Path("/bin/busybox").exists(),
    "overlay": lambda: "overlay" in Path("/proc/filesystems").read_text(),
    "script": lambda: shutil.which("script") is not None,  # a pseudo-terminal for -t tests
    "seccomp-profile": lambda: Path("/usr/share/containers/seccomp.json").exists(),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("requires"):
            for what in mark.args:
                check = _CHECKS.get(what)
                if check is None:
                    raise pytest.UsageError(f"{item.nodeid}: unknown requires({what!r})")
                if not check():
                    item.add_marker(pytest.mark.skip(reason=f"requires {what}"))
