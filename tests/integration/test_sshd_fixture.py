import subprocess

import pytest


@pytest.mark.requires("sshd")
def test_sshd_accepts_key_and_checks_host_key(sshd):
    base = ["ssh", "-p", str(sshd.port), "-i", str(sshd.key_path), "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={sshd.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
    p = subprocess.run([*base, f"{sshd.user}@{sshd.host}", "echo", "hello"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "hello"
    # a wrong known_hosts entry is refused
    bad = sshd.dir / "bad_known_hosts"
    bad.write_text(f"[127.0.0.1]:{sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2\n")
    base[base.index(f"UserKnownHostsFile={sshd.known_hosts}")] = f"UserKnownHostsFile={bad}"
    p = subprocess.run([*base, f"{sshd.user}@{sshd.host}", "true"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
