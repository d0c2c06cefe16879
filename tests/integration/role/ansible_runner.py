"""Run real `ansible-playbook` against the loopback sshd, with the collection in this tree on
the collections path, and read the per-task results from the json callback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
HOST = "berth-host"


def collections_dir(base: Path) -> Path:
    """A collections path where `berth.engine` is this source tree."""
    d = base / "collections"
    link = d / "ansible_collections" / "berth" / "engine"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO)
    return d


def close_ssh_masters(cp_dir: Path) -> None:
    """Stop the ssh ControlPersist masters Ansible left (and their sessions on the sshd)."""
    for sock in cp_dir.glob("*") if cp_dir.is_dir() else []:
        subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={sock}", "berth-host"], capture_output=True,
                       timeout=10)


@dataclass
class PlaybookRun:
    rc: int
    doc: dict[str, Any]
    output: str

    @property
    def stats(self) -> dict[str, int]:
        return self.doc.get("stats", {}).get(HOST, {})

    def tasks(self) -> list[tuple[str, dict[str, Any]]]:
        return [(t["task"].split(" : ", 1)[-1], t["result"]) for t in self.doc.get("tasks", []) if t["host"] == HOST]

    def changed_tasks(self) -> list[str]:
        return [name for name, res in self.tasks() if res.get("changed")]

    def result(self, name: str) -> dict[str, Any]:
        for n, res in self.tasks():
            if n == name:
                return res
        raise KeyError(f"no task {name!r} ran; ran: {[n for n, _ in self.tasks()]}")

    def failure(self) -> str:
        msgs = [f"{n}: {r.get('msg')} {r.get('stderr', '')}" for n, r in self.tasks() if r.get("failed")]
        return "\n".join(msgs) + "\n" + self.output[-3000:]


def run_playbook(sshd: Any, base: Path, plays: list[dict[str, Any]], extra_vars: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None, timeout: float = 600, check: bool = False) -> PlaybookRun:
    base.mkdir(parents=True, exist_ok=True)
    inventory = base / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {HOST: {
        "ansible_host": sshd.host, "ansible_port": sshd.port, "ansible_user": sshd.user,
        "ansible_ssh_private_key_file": str(sshd.key_path),
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={sshd.known_hosts} -o StrictHostKeyChecking=yes",
        "ansible_python_interpreter": "/usr/bin/python3",
    }}}}))
    playbook = base / "playbook.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    argv = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook), *(["--check", "--diff"] if check else [])]
    if extra_vars:
        vars_file = base / "extra_vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        argv += ["-e", f"@{vars_file}"]
    results = base / "results.json"
    results.unlink(missing_ok=True)
    full_env = dict(os.environ)
    full_env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_dir(base)),
        "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "berth_results",
        "BERTH_ANSIBLE_RESULTS": str(results),
        "ANSIBLE_LOCAL_TEMP": str(base / "ansible-tmp"),
        "ANSIBLE_HOME": str(base / "ansible-home"),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(base / "cp"),
    })
    full_env.update(env or {})
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=str(base))
    finally:
        close_ssh_masters(base / "cp")
    if not results.exists():
        raise AssertionError(f"ansible-playbook wrote no results (exit {p.returncode}):\n{p.stdout[-3000:]}\n"
                             f"{p.stderr[-3000:]}")
    return PlaybookRun(p.returncode, json.loads(results.read_text()), p.stdout + p.stderr)
