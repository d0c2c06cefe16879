"""examples/site.yml (what `make demo` and molecule run) refuses a busybox the FROM-scratch web
image cannot use, before it makes anything. Runs from that check on (--start-at-task), so the
host role and the stack are not touched; the full play runs in molecule and `make demo`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.role.ansible_runner import ANSIBLE_PLAYBOOK, REPO, collections_dir

CHECK_TASK = "Look at the host's busybox (the image has no libc, so it must be the static one)"


def run_site(tmp_path: Path, busybox: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_dir(tmp_path)), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_RETRY_FILES_ENABLED="0")
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(REPO / "examples" / "site.yml"),
         "--start-at-task", CHECK_TASK, "-e", "ansible_python_interpreter=/usr/bin/python3",
         "-e", f"demo_busybox={busybox}", "-e", "demo_name=sitecheck"],
        capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))


@pytest.mark.parametrize(("busybox", "said"), [("/bin/ls", "is dynamically linked"),
                                               ("/nonexistent/busybox", "is missing")])
def test_site_refuses_a_busybox_the_image_cannot_run(tmp_path: Path, busybox: str, said: str) -> None:
    p = run_site(tmp_path, busybox)
    assert p.returncode != 0
    assert f"{busybox} on localhost {said}" in p.stdout and "busybox-static" in p.stdout, p.stdout[-2000:]
    assert "changed=0" in p.stdout
    assert not Path("/var/lib/berth-examples/sitecheck-web").exists()
