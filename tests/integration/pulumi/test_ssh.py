"""The SSH transport against a real sshd: host key checking, reuse across threads, retry after
a dropped connection."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from pulumi_berth import _ssh
from pulumi_berth._engine import Engine, EngineError

pytestmark = pytest.mark.requires("sshd")


def _fresh(conn: dict) -> _ssh.ConnSpec:
    spec = _ssh.ConnSpec.from_input(conn)
    _ssh.POOL.close_all()
    return spec


def test_exec_with_pinned_host_key(conn) -> None:
    spec = _fresh(conn)
    res = _ssh.run(spec, "echo hello; echo err >&2; exit 3")
    assert (res.rc, res.stdout, res.stderr) == (3, "hello\n", "err\n")
    res = _ssh.run(spec, "cat", stdin=b"x" * 300_000)
    assert res.rc == 0 and len(res.stdout) == 300_000


def test_known_hosts_file(conn, sshd) -> None:
    spec = _fresh({**conn, "host_key": None, "known_hosts": str(sshd.known_hosts)})
    assert _ssh.run(spec, "true").rc == 0


def test_unknown_host_key_is_refused_with_a_fix(conn, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    spec = _fresh({**conn, "host_key": None, "known_hosts": str(empty)})
    with pytest.raises(_ssh.ConnectionError_, match=r"unknown: set connection.host_key .*ssh-keyscan -p"):
        _ssh.run(spec, "true")


def test_changed_host_key_is_refused(conn, tmp_path: Path) -> None:
    other = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = " ".join((tmp_path / "k.pub").read_text().split()[:2])
    spec = _fresh({**conn, "host_key": wrong})
    with pytest.raises(_ssh.ConnectionError_, match="CHANGED") as e:
        _ssh.run(spec, "true")
    assert "connection.host_key" in str(e.value)


def test_bad_credentials_name_the_fields(conn, tmp_path: Path) -> None:
    other = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    spec = _fresh({**conn, "private_key": other.read_text()})
    with pytest.raises(_ssh.ConnectionError_, match="connection.private_key"):
        _ssh.run(spec, "true")
    assert conn["private_key"] not in repr(spec) and "PRIVATE" not in str(spec)


def test_one_connection_shared_by_threads(conn) -> None:
    spec = _fresh(conn)
    before = _ssh.STATS["connect"]
    results: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        r = _ssh.run(spec, f"echo {i}")
        with lock:
            results.append(r.stdout.strip())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=int) == [str(i) for i in range(12)]
    assert _ssh.STATS["connect"] - before == 1


def test_dropped_connection_is_retried(conn) -> None:
    spec = _fresh(conn)
    assert _ssh.run(spec, "true").rc == 0
    client = _ssh.POOL.get(spec)
    client.get_transport().sock.close()  # the network goes away under the cached client
    assert _ssh.run(spec, "echo back").stdout == "back\n"


def test_engine_not_installed_says_so(conn) -> None:
    eng = Engine(conn, {"command": "/nonexistent/berth"})
    with pytest.raises(EngineError, match="engine command not found .*engine.command"):
        eng.apply("volume", {"volume_name": "x"})
