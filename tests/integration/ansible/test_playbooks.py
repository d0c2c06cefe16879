"""The berth.engine modules end to end: real `ansible-playbook`, real SSH to the loopback
`sshd`, the real engine on the target with a per-test root. Each playbook asserts its own
behaviour (changed then not changed, in-place vs recreate, check mode, diff, bad input); this
driver asserts the run and its PLAY RECAP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.containers import spec
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
    result = ansible_run.play(playbook)
    ok(result)
    if playbook == "container_options.yml" and not spec.host_blkio_weight(Path("/sys/fs/cgroup/cgroup.controllers").exists()):
        # blkio_weight on a host without BFQ: kept in HostConfig, dropped from the cgroup with
        # dockerd's warning (the playbook checks both)
        assert "does not support Block I/O weight" in result.stdout + result.stderr, result.describe()


@pytest.mark.requires(*ENGINE, "registry")
def test_registry_playbook(ansible_run: AnsibleRun, registry: Any) -> None:
    ok(ansible_run.play("registry.yml", extra_vars={
        "registry_host": registry.host, "registry_user": registry.user, "registry_password": registry.password,
    }))


def _task_outputs(stdout: str) -> dict[str, str]:
    """-vvv output of each task, by task name."""
    out: dict[str, str] = {}
    for chunk in stdout.split("\nTASK [")[1:]:
        name, _, text = chunk.partition("]")
        out[name] = text
    return out


@pytest.mark.requires(*ENGINE)
def test_direct_path_and_module_fallback(ansible_run: AnsibleRun) -> None:
    """The action plugins run `berth apply` as one command (no module sent), fall back to the
    module where needed, and both give the same results (the playbook compares them)."""
    result = ansible_run.play("fast_path.yml", "-vvv")
    ok(result)
    tasks = _task_outputs(result.stdout)
    direct = [n for n in tasks if n.endswith("(direct)")]
    module = [n for n in tasks if n.endswith("(module)")]
    assert len(direct) >= 7 and len(module) >= 8, list(tasks)
    for name in direct:
        text = tasks[name]
        assert "running berth apply directly" in text, text
        assert "Using module file" not in text and "AnsiballZ" not in text, text
        assert "Pipelining is enabled" not in text, text
    for name in module:
        text = tasks[name]
        assert "running the module" in text, text
        assert "Using module file" in text, text
    assert "(berth_engine_fast_path is false)" in tasks["Network again (module)"]
    assert "(berth_path must be expanded on the host)" in tasks["A path the host must expand (module)"]
    assert "(async task)" in tasks["Async (module)"]
    # the playbook's own tasks without a twin ran directly too
    assert "running berth apply directly" in tasks["Container gone"]
