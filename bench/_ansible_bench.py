"""Helper of bench/bench_ansible.sh: set up a loopback sshd, an engine root with the busybox
test image and the playbooks (Berth's and community.docker's twins); check that the rerun
changed nothing; print medians and ratios from hyperfine's JSON."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from tests.fixtures.images import BUSYBOX_IMAGE, build_busybox_rootfs
from tests.fixtures.sshd import start_sshd
from tests.integration.ansible.runner import BERTH, AnsibleRun

N = 20
HEADER = """- name: {name}
  hosts: berth
  gather_facts: false
  tasks:
"""


def _berth_defaults() -> str:
    return ("  module_defaults:\n    group/berth.engine.berth:\n"
            "      berth_path: '{{ berth_path }}'\n      root: '{{ berth_root }}'\n"
            "      runroot: '{{ berth_runroot }}'\n      config: '{{ berth_config }}'\n")


def playbooks(w: Path, prefix: str, image: str) -> dict[str, str]:
    names = json.dumps([f"bench-{i:02d}" for i in range(N)])
    out = {}
    docker_defaults = ("  module_defaults:\n    group/community.docker.docker:\n"
                       "      docker_host: '{{ docker_host | default(\"unix:///var/run/docker.sock\") }}'\n")
    for ns, defaults in (("berth.engine", _berth_defaults()), ("community.docker", docker_defaults)):
        net = "network" if ns == "berth.engine" else "docker_network"
        ctr = "container" if ns == "berth.engine" else "docker_container"
        up = (HEADER.format(name=f"{ns} up").replace("  tasks:\n", defaults + "  tasks:\n")
              + f"    - name: Network\n      {ns}.{net}:\n        name: benchnet\n"
              + f"    - name: Containers\n      {ns}.{ctr}:\n        name: '{{{{ item }}}}'\n"
              + f"        image: {image}\n        command: [sleep, '100000']\n"
              + "        networks: [{name: benchnet}]\n        restart_policy: 'no'\n"
              + "        labels: {bench: ansible}\n        memory: 64m\n"
              + f"      loop: {names}\n")
        down = (HEADER.format(name=f"{ns} down").replace("  tasks:\n", defaults + "  tasks:\n")
                + f"    - name: Containers\n      {ns}.{ctr}:\n        name: '{{{{ item }}}}'\n"
                + "        state: absent\n        force_kill: true\n"
                + f"      loop: {names}\n"
                + f"    - name: Network\n      {ns}.{net}:\n        name: benchnet\n        state: absent\n")
        out[f"{prefix if ns == 'berth.engine' else prefix + 'docker_'}up.yml"] = up
        out[f"{prefix if ns == 'berth.engine' else prefix + 'docker_'}down.yml"] = down
    return out


def setup(w: Path) -> None:
    server, proc = start_sshd(w / "sshd")
    root, run, cfg = w / "root", w / "run", w / "config.toml"
    root.mkdir()
    run.mkdir()
    cfg.touch()
    tar = build_busybox_rootfs(w / "rootfs.tar")
    subprocess.run([str(BERTH), "--root", str(root), "--runroot", str(run), "--config", str(cfg), "import",
                    "-c", 'CMD ["sh"]', str(tar), BUSYBOX_IMAGE], check=True, capture_output=True)
    ar = AnsibleRun(w, server, {"berth_path": str(BERTH), "berth_root": str(root), "berth_runroot": str(run),
                                "berth_config": str(cfg)})
    for name, text in playbooks(w, "", BUSYBOX_IMAGE).items():
        (w / name).write_text(text)
    print(f"SSHD_PID={proc.pid}")
    print(f"ANSIBLE_CONFIG={shlex.quote(str(ar.cfg))}")
    print(f"INV={shlex.quote(str(ar.inventory))}")


def check_noop(w: Path) -> None:
    """The rerun must really be a no-op: run it once more and read the recap."""
    env_cfg = next(w.glob("ansible.cfg"))
    p = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(w / "inventory.yml"),
                        str(w / "up.yml")], capture_output=True, text=True, env={"ANSIBLE_CONFIG": str(env_cfg), "HOME": "/root",
                                                                                "PATH": "/usr/bin:/bin"})
    recap = p.stdout[p.stdout.rfind("PLAY RECAP"):]
    if p.returncode != 0 or "changed=0" not in recap or "failed=0" not in recap:
        print(f"bench_ansible: WARNING the rerun was not a clean no-op:\n{recap or p.stdout[-2000:]}")


def _median(path: Path) -> float | None:
    if not path.exists():
        return None
    return float(json.loads(path.read_text())["results"][0]["median"])


def report(w: Path, note: str) -> None:
    first, noop = _median(w / "first.json"), _median(w / "noop.json")
    dfirst, dnoop = _median(w / "docker_first.json"), _median(w / "docker_noop.json")
    print("\nbench_ansible summary (medians)")
    print(f"  berth first run (20 containers + network): {first:.2f} s ({first / (N + 1):.2f} s per task item)")
    print(f"  berth no-op rerun:                         {noop:.2f} s ({noop / (N + 1):.2f} s per task item)")
    if dfirst is not None and dnoop is not None:
        print(f"  community.docker first run:                {dfirst:.2f} s")
        print(f"  community.docker no-op rerun:              {dnoop:.2f} s")
        print(f"  ratio first run berth/docker:  {first / dfirst:.2f} (target <= 1.0: "
              f"{'met' if first <= dfirst else 'NOT met'})")
        print(f"  ratio no-op rerun berth/docker: {noop / dnoop:.2f} (target <= 0.7: "
              f"{'met' if noop <= 0.7 * dnoop else 'NOT met'})")
    else:
        print(f"  community.docker: {note}")


if __name__ == "__main__":
    cmd, w = sys.argv[1], Path(sys.argv[2])
    if cmd == "setup":
        setup(w)
    elif cmd == "check-noop":
        check_noop(w)
    elif cmd == "report":
        report(w, sys.argv[3] if len(sys.argv) > 3 else "")
