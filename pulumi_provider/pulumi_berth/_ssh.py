"""SSH transport for the providers: one paramiko client per connection target, shared by every
provider instance and worker thread of the provider process.

Providers are pickled into Pulumi state, so they never hold a client. Clients live in a
module-level cache keyed by the connection parameters (the private key and password only as a
digest), opened lazily, and dropped and reopened when the transport has died. The host key must
match the one supplied (``host_key``) or a known_hosts file; an unknown or changed key is an
error that says how to supply the right one, never silently accepted.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
# Channels one connection runs at once: below OpenSSH's default MaxSessions (10). More calls wait
# for a free channel; a server that allows fewer is waited for too (see _Busy), never dropped.
MAX_CHANNELS = 8


class ConnectionError_(Exception):
    """Raised for connection set-up problems (auth, host key, network)."""


class _Unreachable(ConnectionError_):
    """The host did not answer (refused, timed out, reset): worth another try after a drop."""

    after_drop = False


class _Busy(Exception):
    """The server refused a new channel on a live connection (its MaxSessions is reached): wait
    for one of ours to finish; the connection itself is fine."""


@dataclass(frozen=True)
class ConnSpec:
    host: str
    port: int = 22
    user: str = "root"
    private_key: str | None = None
    private_key_passphrase: str | None = None
    password: str | None = None
    host_key: str | None = None
    known_hosts: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES

    @classmethod
    def from_input(cls, conn: dict[str, Any] | None) -> ConnSpec:
        if not isinstance(conn, dict) or not conn.get("host"):
            raise ConnectionError_("connection.host is required (the address of the Berth host)")
        try:
            port = int(conn.get("port") or 22)
        except (TypeError, ValueError):
            raise ConnectionError_(f"connection.port must be a number, got {conn.get('port')!r}") from None
        return cls(
            host=str(conn["host"]),
            port=port,
            user=str(conn.get("user") or "root"),
            private_key=conn.get("private_key") or None,
            private_key_passphrase=conn.get("private_key_passphrase") or None,
            password=conn.get("password") or None,
            host_key=conn.get("host_key") or None,
            known_hosts=conn.get("known_hosts") or None,
            timeout=float(conn.get("timeout") or DEFAULT_TIMEOUT),
            retries=int(conn.get("retries") if conn.get("retries") is not None else DEFAULT_RETRIES),
        )

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def cache_key(self) -> tuple[Any, ...]:
        def digest(s: str | None) -> str | None:
            return hashlib.sha256(s.encode()).hexdigest() if s else None

        return (self.host, self.port, self.user, digest(self.private_key), digest(self.private_key_passphrase),
                digest(self.password), self.host_key, self.known_hosts)

    def __repr__(self) -> str:  # never show secrets
        return f"ConnSpec({self.label})"

    __str__ = __repr__


@dataclass
class ExecResult:
    rc: int
    stdout: str
    stderr: str


# statistics for the benchmark and tests: how many commands went over SSH
_STATS_LOCK = threading.Lock()
STATS: dict[str, int] = {"exec": 0, "connect": 0, "sftp": 0}


def _count(what: str) -> None:
    with _STATS_LOCK:
        STATS[what] += 1


def reset_stats() -> None:
    with _STATS_LOCK:
        for k in STATS:
            STATS[k] = 0


def _hostkey_name(spec: ConnSpec) -> str:
    return spec.host if spec.port == 22 else f"[{spec.host}]:{spec.port}"


def _how_to_fix(spec: ConnSpec) -> str:
    port = "" if spec.port == 22 else f"-p {spec.port} "
    return (f"set connection.host_key to the host's public key line (for example the output of "
            f"`ssh-keyscan {port}{spec.host}` checked out of band, or /etc/ssh/ssh_host_ed25519_key.pub "
            f"on the host), or connection.known_hosts to a known_hosts file that lists it")


def _load_pkey(text: str, passphrase: str | None) -> Any:
    import paramiko

    errors = []
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ConnectionError_("connection.private_key is encrypted: set "
                                   "connection.private_key_passphrase") from None
        except (paramiko.SSHException, ValueError) as e:
            errors.append(type(e).__name__)
    raise ConnectionError_("connection.private_key is not a readable OpenSSH/PEM private key "
                           "(ed25519, ecdsa or rsa)")


def _policy(spec: ConnSpec) -> Any:
    import paramiko

    class _Reject(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            raise ConnectionError_(
                f"host key of {hostname} ({key.get_name()}) is unknown: {_how_to_fix(spec)}")

    return _Reject()


def _open(spec: ConnSpec) -> Any:
    import paramiko

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(_policy(spec))
    name = _hostkey_name(spec)
    if spec.host_key:
        parts = spec.host_key.split()
        # accept "type base64" or a known_hosts line "host type base64"
        if len(parts) >= 3 and not parts[0].startswith(("ssh-", "ecdsa-")):
            parts = parts[1:]
        if len(parts) < 2:
            raise ConnectionError_(f"connection.host_key must be 'TYPE BASE64' (like a .pub file), "
                                   f"got {spec.host_key[:40]!r}")
        try:
            key = paramiko.PKey.from_type_string(parts[0], __import__("base64").b64decode(parts[1]))
        except Exception as e:  # noqa: BLE001 - any decoding problem is the same user error
            raise ConnectionError_(f"connection.host_key could not be parsed ({e}): {spec.host_key[:40]!r}") \
                from None
        client.get_host_keys().add(name, parts[0], key)
    else:
        path = spec.known_hosts or os.path.expanduser("~/.ssh/known_hosts")
        if spec.known_hosts and not os.path.exists(path):
            raise ConnectionError_(f"connection.known_hosts: file {path!r} does not exist")
        if os.path.exists(path):
            client.load_host_keys(path)
    pkey = _load_pkey(spec.private_key, spec.private_key_passphrase) if spec.private_key else None
    try:
        client.connect(spec.host, port=spec.port, username=spec.user, pkey=pkey, password=spec.password,
                       timeout=spec.timeout, banner_timeout=spec.timeout, auth_timeout=spec.timeout,
                       allow_agent=False, look_for_keys=False)
    except ConnectionError_:
        client.close()
        raise
    except paramiko.BadHostKeyException as e:
        client.close()
        raise ConnectionError_(f"host key of {name} CHANGED: it offered {e.key.get_name()} "
                               f"{e.key.get_fingerprint().hex()} which does not match the one supplied; "
                               f"if the host was legitimately re-keyed, {_how_to_fix(spec)}") from None
    except paramiko.AuthenticationException:
        client.close()
        raise ConnectionError_(f"authentication as {spec.label} failed: check connection.user and "
                               f"connection.private_key / connection.password") from None
    except (OSError, paramiko.SSHException) as e:
        client.close()
        raise _Unreachable(f"cannot connect to {spec.label}: {e}") from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(30)
    _count("connect")
    return client


class _Pool:
    """Client cache keyed by connection parameters; thread-safe. paramiko clients multiplex
    channels, so one client serves concurrent exec calls from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._slots: dict[tuple[Any, ...], threading.BoundedSemaphore] = {}

    def slots(self, spec: ConnSpec) -> threading.BoundedSemaphore:
        """The channel slots of one connection target (at most MAX_CHANNELS at once)."""
        with self._lock:
            return self._slots.setdefault(spec.cache_key(), threading.BoundedSemaphore(MAX_CHANNELS))

    def get(self, spec: ConnSpec) -> Any:
        key = spec.cache_key()
        with self._lock:
            klock = self._key_locks.setdefault(key, threading.Lock())
        with klock:  # one connect per key at a time; others wait and reuse it
            client = self._clients.get(key)
            if client is not None:
                t = client.get_transport()
                if t is not None and t.is_active():
                    return client
                client.close()
            try:
                fresh = _open(spec)
            except _Unreachable as e:
                e.after_drop = client is not None  # we had a connection: the host may come back
                raise
            self._clients[key] = fresh
            return fresh

    def drop(self, spec: ConnSpec, client: Any) -> None:
        key = spec.cache_key()
        with self._lock:
            if self._clients.get(key) is client:
                del self._clients[key]
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass

    def close_all(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for c in clients:
            c.close()


POOL = _Pool()


def _transient(e: BaseException) -> bool:
    import paramiko

    return isinstance(e, (EOFError, socket.error, paramiko.SSHException)) and not isinstance(
        e, (paramiko.AuthenticationException, paramiko.BadHostKeyException))


def _open_channel(client: Any, timeout: float, sftp: bool = False) -> Any:
    """A new session channel (or SFTP client) on the cached connection. A refusal while the
    transport stays up is the server's session limit (_Busy), not a dropped connection."""
    import paramiko

    transport = client.get_transport()
    if transport is None or not transport.is_active():
        raise EOFError("transport closed")
    try:
        return client.open_sftp() if sftp else transport.open_session(timeout=timeout)
    except (paramiko.SSHException, EOFError) as e:
        # paramiko reports a refused channel as ChannelException, or (when several are refused
        # at once) as a bare "Unable to open channel."; only a dead transport means a drop
        if transport.is_active():
            raise _Busy(str(e) or type(e).__name__) from None
        raise


def _with_channel(spec: ConnSpec, what: str, fn: Any) -> Any:
    """Run ``fn(client)`` on the shared connection inside one of its channel slots. A dropped
    connection is reopened and retried ``spec.retries`` times (the commands are idempotent); a
    server refusing more sessions is waited for up to ``spec.timeout`` seconds."""
    last: BaseException | None = None
    drops = 0
    busy_until: float | None = None
    while True:
        try:
            client = POOL.get(spec)
        except _Unreachable as e:
            if not (drops or e.after_drop) or drops >= spec.retries:  # never answered: fail at once
                raise
            last = e
            drops += 1
            time.sleep(min(0.2 * drops, 1.0))
            continue
        try:
            with POOL.slots(spec):
                return fn(client)
        except ConnectionError_:
            raise
        except _Busy as e:
            now = time.monotonic()
            busy_until = busy_until if busy_until is not None else now + spec.timeout
            if now > busy_until:
                raise ConnectionError_(f"{spec.label} kept refusing new SSH sessions for {spec.timeout:g}s "
                                       f"({e}); raise MaxSessions in its sshd_config") from None
            time.sleep(0.05)
        except Exception as e:  # noqa: BLE001 - classified below
            if not _transient(e):
                raise
            last = e
            transport = client.get_transport()
            if transport is None or not transport.is_active():  # a live one serves the others
                POOL.drop(spec, client)
            drops += 1
            if drops > spec.retries:
                raise ConnectionError_(f"{what} on {spec.label}: connection dropped {drops} times: {last}") \
                    from None
            time.sleep(min(0.2 * drops, 1.0))


def run(spec: ConnSpec, command: str, stdin: bytes | None = None) -> ExecResult:
    """Run one command; retry on a dropped connection (the commands we run are idempotent)."""
    return _with_channel(spec, "command", lambda client: _exec(client, command, stdin, spec.timeout))


def _exec(client: Any, command: str, stdin: bytes | None, timeout: float) -> ExecResult:
    chan = _open_channel(client, timeout)
    _count("exec")
    try:
        chan.exec_command(command)

        def feed() -> None:
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()

        # feed stdin and drain stderr in helper threads while stdout is drained here, each until
        # EOF (exit-status may arrive before the last data), so no stream can fill its window
        # and stall the others
        err_chunks: list[bytes] = []
        writer = threading.Thread(target=feed, daemon=True)
        t = threading.Thread(target=lambda: err_chunks.append(chan.makefile_stderr("rb").read()), daemon=True)
        writer.start()
        t.start()
        out_data = chan.makefile("rb").read()
        t.join()
        writer.join()
        rc = chan.recv_exit_status()
        if rc == -1:
            raise EOFError("channel closed before the command exited")
        out, err = io.BytesIO(out_data), io.BytesIO(b"".join(err_chunks))
        return ExecResult(rc, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))
    finally:
        chan.close()


def upload(spec: ConnSpec, fileobj: Any, remote_path: str) -> None:
    """Upload a file object over SFTP (retried on a dropped connection)."""
    def put(client: Any) -> None:
        sftp = _open_channel(client, spec.timeout, sftp=True)
        _count("sftp")
        try:
            fileobj.seek(0)
            sftp.putfo(fileobj, remote_path, confirm=True)
        finally:
            sftp.close()

    _with_channel(spec, "upload", put)
