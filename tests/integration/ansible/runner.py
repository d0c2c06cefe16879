"""Run the berth.engine collection's playbooks with the real `ansible-playbook` over SSH.

`AnsibleRun` writes, into a temp dir: an `ansible_collections/berth/engine` tree whose parts
are symlinks to this repository's collection (plugins, meta, galaxy.yml), an ansible.cfg that
points at it, and an inventory with one host `target` reached through the loopback `sshd`
fixture, whose group vars tell every berth.engine module where the engine and its (per-test)
root are. `play()` runs a playbook and returns the parsed PLAY RECAP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
VENV_BIN = Path(sys.executable).parent
# The engine on the target: the suite's own venv, installed from this tree like the host role does.
BERTH = VENV_BIN / "berth"
COLLECTION_PARTS = ("plugins", "meta", "galaxy.yml", "roles")

_RECAP = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", re.M)


def collection_tree(base: Path) -> Path:
    """base/ansible_collections/berth/engine with symlinks to the repo's collection parts."""
    dest = base / "ansible_collections" / "berth" / "engine"
    dest.mkdir(parents=True, exist_ok=True)
    for part in COLLECTION_PARTS:
        link = dest / part
        if (REPO / part).exists() and not link.exists():
            link.symlink_to(REPO / part)
    return base


def parse_recap(stdout: str) -> dict[str, dict[str, int]]:
    section = stdout[stdout.rfind("PLAY RECAP"):] if "PLAY RECAP" in stdout else ""
    recap: dict[str, dict[str, int]] = {}
    for host, fields in _RECAP.findall(section):
        recap[host] = {k: int(v) for k, v in (f.split("=") for f in fields.split())}
    return recap


@dataclass
class PlayResult:
    rc: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]]

    def describe(self) -> str:
        return f"ansible-playbook exited {self.rc}\n--- stdout\n{self.stdout[-12000:]}\n--- stderr\n{self.stderr[-4000:]}"


class AnsibleRun:
    def __init__(self, base: Path, sshd: Any, host_vars: dict[str, Any]) -> None:
        self.base = base
        self.sshd = sshd
        collection_tree(base)
        self.cfg = base / "ansible.cfg"
        self.inventory = base / "inventory.yml"
        self.cfg.write_text(
            "[defaults]\n"
            f"collections_path = {base}\n"
            "host_key_checking = True\n"
            "retry_files_enabled = False\n"
            "interpreter_python = /usr/bin/python3\n"
            "gathering = explicit\n"
            "forks = 10\n"
            f"local_tmp = {base / 'tmp'}\n"
            "[ssh_connection]\n"
            "pipelining = True\n"
            f"control_path_dir = {base / 'cp'}\n"
            "ssh_args = -o ControlMaster=auto -o ControlPersist=15s\n"
        )
        vars_ = {
            "ansible_host": sshd.host,
            "ansible_port": sshd.port,
            "ansible_user": sshd.user,
            "ansible_ssh_private_key_file": str(sshd.key_path),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={sshd.known_hosts} -o StrictHostKeyChecking=yes",
            "ansible_python_interpreter": "/usr/bin/python3",
            **host_vars,
        }
        # JSON is YAML: no quoting rules to get wrong.
        self.inventory.write_text(json.dumps({"berth": {"hosts": {"target": vars_}}}, indent=1))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(
            ANSIBLE_CONFIG=str(self.cfg),
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_NOCOLOR="1",
            PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            HOME=env.get("HOME", "/root"),
        )
        return env

    def play(self, playbook: str | Path, *args: str, extra_vars: dict[str, Any] | None = None,
             timeout: float = 600) -> PlayResult:
        path = Path(playbook)
        if not path.is_absolute():
            path = PLAYBOOKS / path
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(path), *args]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env(), cwd=str(self.base),
                           timeout=timeout)
        return PlayResult(p.returncode, p.stdout, p.stderr, parse_recap(p.stdout))

