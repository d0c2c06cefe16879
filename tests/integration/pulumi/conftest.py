"""Fixtures for the Pulumi provider's integration tests: a connection dict for the loopback
sshd and an engine input pointing at a per-test Berth root."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ENGINE_CMD = str(Path(sys.executable).parent / "berth")


@pytest.fixture
def conn(sshd) -> dict[str, Any]:
    return {"host": sshd.host, "port": sshd.port, "user": sshd.user, "private_key": sshd.private_key,
            "host_key": sshd.host_pub}


@pytest.fixture
def engine(berth_host) -> dict[str, Any]:
    return {"command": ENGINE_CMD, "root": str(berth_host.root), "runroot": str(berth_host.runroot),
            "config": str(berth_host.config)}
