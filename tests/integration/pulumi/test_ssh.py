"""The SSH transport against a real sshd: host key checking, reuse across threads, retry after
a dropped connection."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

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


def _second_sshd(sshd, tmp_path: Path, max_sessions: int) -> tuple[int, Any]:
    """Config and starter of a second sshd like the session one (same keys), on its own port."""
    from tests.fixtures.sshd import _wait_port, free_port

    port = free_port()
    text = (sshd.dir / "sshd_config").read_text().replace("MaxSessions 100", f"MaxSessions {max_sessions}")
    text = text.replace(f"Port {sshd.port}\n", f"Port {port}\n").replace(
        f"PidFile {sshd.dir / 'sshd.pid'}", f"PidFile {tmp_path / 'sshd.pid'}")
    (tmp_path / "sshd_config").write_text(text)

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(tmp_path / "sshd_config")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _wait_port(port, proc)
        return proc

    return port, start


@pytest.fixture
def stingy_sshd(sshd, tmp_path: Path):
    """A second sshd like the session one but allowing only 2 sessions per connection."""
    port, start = _second_sshd(sshd, tmp_path, 2)
    proc = start()
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def test_more_calls_than_the_server_allows_sessions_wait(conn, stingy_sshd) -> None:
    """A host whose sshd allows fewer sessions than the provider's threads use: the extra calls
    wait for a channel on the same connection instead of failing or tearing it down."""
    spec = _fresh({**conn, "port": stingy_sshd, "host_key": conn["host_key"]})
    before = dict(_ssh.STATS)
    results: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            out = _ssh.run(spec, f"sleep 0.3; echo {i}").stdout.strip()
        except Exception as e:  # noqa: BLE001 - recorded and asserted below
            out = repr(e)
        with lock:
            results.append(out)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [str(i) for i in range(6)]
    assert _ssh.STATS["connect"] - before["connect"] == 1
    assert _ssh.STATS["exec"] - before["exec"] == 6


def test_channels_per_connection_are_capped(conn, tmp_path: Path) -> None:
    """No more than MAX_CHANNELS commands run at once on one connection (OpenSSH's default
    MaxSessions is 10); the others queue for a channel and run when one is free."""
    spec = _fresh(conn)
    started, release = tmp_path / "started", tmp_path / "release"
    cmd = f"echo x >> {started}; while [ ! -e {release} ]; do sleep 0.05; done; echo done"
    n = _ssh.MAX_CHANNELS + 4
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        out = _ssh.run(spec, cmd).stdout.strip()
        with lock:
            results.append(out)

    def running() -> int:
        return len(started.read_text().splitlines()) if started.exists() else 0

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        end = time.monotonic() + 20
        while running() < _ssh.MAX_CHANNELS and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(1.5)  # time enough for any extra command to start, were it allowed to
        assert running() == _ssh.MAX_CHANNELS
    finally:
        release.touch()
        for t in threads:
            t.join()
    assert results == ["done"] * n and running() == n


def test_reconnect_waits_for_a_host_coming_back(conn, sshd, tmp_path: Path) -> None:
    """A dropped connection whose host does not answer at once (sshd restarting) is retried
    until it does, within ``retries``."""
    port, start = _second_sshd(sshd, tmp_path, 100)
    proc = start()
    spec = _fresh({**conn, "port": port, "retries": 8})
    back: list[subprocess.Popen] = [proc]
    timer = threading.Timer(1.0, lambda: back.append(start()))
    try:
        assert _ssh.run(spec, "true").rc == 0
        proc.terminate()  # the listener goes away...
        proc.wait(5)
        _ssh.POOL.get(spec).get_transport().sock.close()  # ...and so does our connection
        timer.start()  # it comes back a second later
        before = _ssh.STATS["connect"]
        assert _ssh.run(spec, "echo back").stdout == "back\n"
        assert _ssh.STATS["connect"] - before == 1
    finally:
        if timer.is_alive():
            timer.join()
        for p in back:
            p.terminate()
            p.wait(5)
    spec = _fresh({**conn, "port": port})  # a host that never answered fails at once
    with pytest.raises(_ssh.ConnectionError_, match="cannot connect"):
        _ssh.run(spec, "true")
