"""The role berth.engine.host over real SSH (loopback sshd): it converges, a second run changes
nothing, it installs from a wheelhouse with an empty package index, it reinstalls only when the
engine's content changes, and the host it prepares passes the engine's checks."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.role.ansible_runner import REPO, run_playbook

pytestmark = pytest.mark.requires("root", "sshd", "runc", "nft")


@pytest.fixture
def base() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="berth-role-", dir="/var/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def engine_src(base: Path) -> Path:
    """A snapshot of the engine source: the collection's copy, frozen for this test."""
    src = base / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src / "pyproject.toml")
    shutil.copytree(REPO / "engine", src / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def role_vars(base: Path, **more: Any) -> dict[str, Any]:
    v = {
        "berth_source_dir": str(base / "src"),
        "berth_prefix": str(base / "opt"),
        "berth_root": str(base / "root"),
        "berth_runroot": str(base / "run"),
        "berth_config_file": str(base / "etc" / "config.toml"),
        "berth_sysctl_file": str(base / "sysctl-berth.conf"),
        "berth_controller_cache": str(base / "controller-cache"),
        "berth_insecure_registries": ["registry.test:5000"],
        "berth_default_subnet": "10.231.0.0/16",
    }
    v.update(more)
    return v


def role_play(env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [{"name": "prepare a Berth host", "hosts": "all", "gather_facts": True,
             "environment": env or {}, "roles": [{"role": "berth.engine.host"}]}]


def test_role_converges_from_wheelhouse_without_pypi_then_changes_nothing_until_the_engine_does(sshd, base, engine_src, wheelhouse,
                                                                         empty_index) -> None:
    env = {"PIP_INDEX_URL": empty_index, "PIP_CONFIG_FILE": "/dev/null"}
    v = role_vars(base, berth_wheelhouse=str(wheelhouse))

    first = run_playbook(sshd, base / "run1", role_play(env), v)
    assert first.rc == 0, first.failure()
    changed = first.changed_tasks()
    for task in ("Create the virtualenv", "Copy the engine wheel", "Install the engine and its dependencies",
                 "Write the engine configuration"):
        assert task in changed

    second = run_playbook(sshd, base / "run2", role_play(env), v)
    assert second.rc == 0, second.failure()
    assert second.changed_tasks() == []
    assert second.stats["changed"] == 0
    in_check_mode = run_playbook(sshd, base / "run3", role_play(env), v, check=True)
    assert in_check_mode.rc == 0, in_check_mode.failure()
    assert in_check_mode.changed_tasks() == []

    # the installed engine runs, reads the config the role wrote, and the host passes its checks
    berth = base / "opt" / "bin" / "berth"
    out = subprocess.run([str(berth), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("berth version ")
    cfg = (base / "etc" / "config.toml").read_text()
    assert 'insecure_registries = ["registry.test:5000"]' in cfg
    assert 'default_subnet = "10.231.0.0/16"' in cfg
    check = second.result("Report the checks")["ansible_facts"]["berth_host_check"]
    assert check["ok"] is True
    for name in ("runtime", "conmon", "cgroup", "nftables", "seccomp", "config"):
        assert check["checks"][name]["ok"], check["checks"][name]
    assert check["checks"]["seccomp"]["detail"] == "/usr/share/containers/seccomp.json"
    info = check["info"]  # what `berth info --format json` said on the prepared host
    assert info["Runtimes"][info["DefaultRuntime"]]["path"]
    assert str(info["CgroupVersion"]) in ("1", "2")
    assert info["Nftables"] is True and info["SeccompProfile"]["Present"] is True
    assert info["RegistryConfig"]["InsecureRegistries"] == ["registry.test:5000"]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"
    assert "net.ipv4.ip_forward = 1" in (base / "sysctl-berth.conf").read_text()

    # new engine content under the same version: only the engine is reinstalled
    marker = "# changed by test_host_role\n"
    with open(engine_src / "engine" / "__init__.py", "a") as f:
        f.write(marker)
    third = run_playbook(sshd, base / "run4", role_play(env), v)
    assert third.rc == 0, third.failure()
    assert sorted(third.changed_tasks()) == sorted([
        "Copy the engine wheel", "Install the engine and its dependencies",
        "Replace the engine's files (same version, new content)", "Record the installed wheel"])
    site = next((base / "opt" / "lib").glob("python3*/site-packages/engine/__init__.py"))
    assert site.read_text().endswith(marker)


def test_role_validates_its_variables_naming_them(sshd, base) -> None:
    r = run_playbook(sshd, base / "run", role_play(), role_vars(base, berth_boot_hook="upstartish"))
    assert r.rc != 0
    out = r.failure()
    assert "berth_boot_hook" in out and "upstartish" in out
    assert not (base / "opt").exists()  # refused before anything was made


def test_role_boot_hooks_run_berth_restore(sshd, base) -> None:
    """This machine's PID 1 is not systemd: `auto` installs nothing and says so; the systemd
    unit and the init script are written where asked (enabling needs the real init system)."""
    restore = f"{base}/opt/bin/berth --root {base}/root --runroot {base}/run --config {base}/etc/config.toml restore"
    units, initd = base / "units", base / "init.d"
    units.mkdir()
    initd.mkdir()
    v = role_vars(base, berth_boot_enable=False, berth_systemd_unit_dir=str(units), berth_initd_dir=str(initd))
    boot = [{"hosts": "all", "gather_facts": False, "tasks": [
        {"name": f"boot hook {hook}", "ansible.builtin.include_role": {"name": "berth.engine.host", "tasks_from": "boot"},
         "vars": {"berth_boot_hook": hook}} for hook in ("auto", "systemd", "sysvinit")]}]
    first = run_playbook(sshd, base / "run1", boot, v)
    assert first.rc == 0, first.failure()
    assert "No boot hook installed" in first.result("Say why there is no boot hook")["msg"]
    unit = (units / "berth-restore.service").read_text()
    assert f"ExecStart={restore}\n" in unit
    assert "Type=oneshot" in unit and "WantedBy=multi-user.target" in unit
    script = initd / "berth-restore"
    assert script.stat().st_mode & 0o777 == 0o755
    assert restore in script.read_text()
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    second = run_playbook(sshd, base / "run2", boot, v)
    assert second.rc == 0 and second.changed_tasks() == []


def test_role_check_mode_on_a_fresh_host_touches_nothing(sshd, base, engine_src) -> None:
    r = run_playbook(sshd, base / "run", role_play(), role_vars(base), check=True)
    assert r.rc == 0, r.failure()
    for task in ("Create the virtualenv", "Copy the engine wheel", "Write the engine configuration"):
        assert task in r.changed_tasks()
    assert not (base / "opt").exists() and not (base / "etc").exists()
    assert not (base / "sysctl-berth.conf").exists()


def test_role_installs_the_missing_os_packages_from_its_own_facts(sshd, base, engine_src) -> None:
    """A play without facts still gets the OS family; a play's own package list replaces the
    family's (role vars outrank the role's defaults), and only what dpkg lacks goes to apt.
    Check mode, so `hello` (in Debian's archive, not installed here) is not really installed."""
    assert subprocess.run(["dpkg-query", "-W", "-f=${Status}", "hello"], capture_output=True,
                          text=True).stdout.strip() != "install ok installed"
    play = [{"hosts": "all", "gather_facts": False, "roles": [
        {"role": "berth.engine.host", "vars": {"berth_os_packages": ["runc", "nftables", "hello"]}}]}]
    r = run_playbook(sshd, base / "run", play, role_vars(base), check=True)
    assert r.rc == 0, r.failure()
    learned = r.result("Learn the OS family (the play may not gather facts)")
    assert learned["ansible_facts"]["ansible_os_family"] == "Debian"
    apt = r.result("Install the missing packages (apt)")
    assert apt.get("changed") is True, apt
    assert apt["invocation"]["module_args"]["name"] == ["hello"]  # runc and nftables are installed
    assert "Inst hello " in apt["stdout"]
    assert subprocess.run(["dpkg-query", "-W", "-f=${Status}", "hello"], capture_output=True,
                          text=True).stdout.strip() != "install ok installed"
