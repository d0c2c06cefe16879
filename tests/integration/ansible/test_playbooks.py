"""The berth.engine modules end to end: real `ansible-playbook`, real SSH to the loopback
`sshd`, the real engine on the target with a per-test root. Each playbook asserts its own
behaviour (changed then not changed, in-place vs recreate, check mode, diff, bad input); this
driver asserts the run and its PLAY RECAP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.sshd import free_port
from tests.integration.ansible.runner import BERTH, AnsibleRun, PlayResult

ENGINE = ("root", "runc", "conmon", "nft", "overlay", "busybox", "sshd")


@pytest.fixture
def ansible_run(sshd: Any, berth_host: Any, busybox_image: str, tmp_path: Path) -> Iterator[AnsibleRun]:
    yield AnsibleRun(tmp_path, sshd, {
        "berth_path": str(BERTH),
        "berth_root": str(berth_host.root),
        "berth_runroot": str(berth_host.runroot),
        "berth_config": str(berth_host.config),
        "test_image": busybox_image,
        "test_dir": str(tmp_path),
        "web_port": free_port(),
        "web_port2": free_port(),
    })


def ok(result: PlayResult, changed: int | None = None) -> dict[str, int]:
    assert result.rc == 0, result.describe()
    recap = result.recap.get("target")
    assert recap is not None, result.describe()
    assert recap["failed"] == 0 and recap["unreachable"] == 0, result.describe()
    # Ansible's own warnings about the playbooks or the collection; a third-party library's
    # Python DeprecationWarning on the controller (cryptography's DSA notice) is not ours.
    for sloppy in ("duplicate mapping key", "reserved name", "[DEPRECATION WARNING]"):
        assert sloppy not in result.stdout + result.stderr, result.describe()
    if changed is not None:
        assert recap["changed"] == changed, result.describe()
    return recap


@pytest.mark.requires(*ENGINE)
@pytest.mark.parametrize("playbook", [
    "container.yml",
    "container_network.yml",
    "container_options.yml",
    "network_volume.yml",
    "image.yml",
    "image_archive.yml",
    "ops.yml",
    "image_build.yml",
])
def test_playbook(ansible_run: AnsibleRun, playbook: str) -> None:
    ok(ansible_run.play(playbook))


@pytest.mark.requires(*ENGINE, "registry")
def test_registry_playbook(ansible_run: AnsibleRun, registry: Any) -> None:
    ok(ansible_run.play("registry.yml", extra_vars={
        "registry_host": registry.host, "registry_user": registry.user, "registry_password": registry.password,
    }))
