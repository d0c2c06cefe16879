"""`exec`: one more process in a running container, through `runc exec --process`, with the
container's own process settings (caps, env, user, seccomp) as its base."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import TYPE_CHECKING, Any

from engine.containers import api, runtime, store, users
from engine.errors import Conflict, InvalidArgument, RuntimeFailure

if TYPE_CHECKING:
    from engine.context import Context


def process_spec(ctx: Context, rec: dict[str, Any], cmd: list[str], *, env: list[str] | None = None,
                 user: str | None = None, workdir: str | None = None, tty: bool = False,
                 privileged: bool = False) -> dict[str, Any]:
    d = store.cdir(ctx, rec["Id"])
    with open(d / "config.json") as f:
        spec = json.load(f)
    proc = dict(spec["process"])
    if not cmd:
        raise InvalidArgument("exec: no command given", field="Cmd")
    proc["args"] = list(cmd)
    proc["terminal"] = tty
    if env:
        merged = {e.split("=", 1)[0]: e for e in proc.get("env") or []}
        for e in env:
            merged[e.split("=", 1)[0]] = e
        proc["env"] = list(merged.values())
    if user is not None:
        u = users.resolve(d / "merged", user, rec["HostConfig"].get("GroupAdd"))
        proc["user"] = {"uid": u.uid, "gid": u.gid}
        if u.additional_gids:
            proc["user"]["additionalGids"] = u.additional_gids
    if workdir:
        proc["cwd"] = workdir
    if tty and not any(e.startswith("TERM=") for e in proc.get("env") or []):
        proc["env"] = [*proc.get("env", []), "TERM=xterm"]
    if privileged:
        from engine.containers.spec import host_caps

        caps = host_caps()
        proc["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    return proc


def _running(ctx: Context, ref: str) -> dict[str, Any]:
    cid = store.resolve_id(ctx, ref)
    rec = store.load(ctx, cid)
    if not api.live_running(ctx, rec):
        raise Conflict(f"Container {cid} is not running", field="container")
    if rec["State"].get("Paused"):
        raise Conflict(f"Container {cid} is paused, unpause the container before exec", field="container")
    return rec


def exec_run(ctx: Context, ref: str, cmd: list[str], *, env: list[str] | None = None, user: str | None = None,
             workdir: str | None = None, tty: bool = False, interactive: bool = False, detach: bool = False,
             privileged: bool = False, capture: bool = False, timeout: float | None = None,
             input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run `cmd` in the container. Foreground: stdio passed through (or captured) and the exit
    code returned; detached: returns 0 once started. `input`, if given, is the process's whole
    stdin (then closed), in place of the caller's stdin."""
    if input is not None and detach:
        raise InvalidArgument("exec: stdin input cannot be given to a detached exec", field="stdin")
    if input is not None and tty:
        raise InvalidArgument("exec: stdin input cannot be given together with a tty", field="stdin")
    rec = _running(ctx, ref)
    proc = process_spec(ctx, rec, cmd, env=env, user=user, workdir=workdir, tty=tty, privileged=privileged)
    d = store.cdir(ctx, rec["Id"])
    fd, path = tempfile.mkstemp(prefix=".exec-", suffix=".json", dir=str(d))
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(proc, f)
        argv = [*runtime.runc_argv(ctx), "exec", "--process", path]
        if detach:
            argv.append("--detach")
        argv.append(rec["Id"])
        if detach:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                raise RuntimeFailure(f"exec: {runtime._runc_error(p.stderr)}", field="Cmd")
            return 0, b"", b""
        stdin = None if interactive else subprocess.DEVNULL
        if capture and tty:
            return _run_on_pty(argv, timeout)
        if capture:
            try:
                if input is not None:
                    p2 = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
                else:
                    p2 = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired as e:
                return -1, e.stdout or b"", e.stderr or b""
            return p2.returncode, p2.stdout, p2.stderr
        p3 = subprocess.run(argv, input=input) if input is not None else subprocess.run(argv, stdin=stdin)
        return p3.returncode, b"", b""
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _run_on_pty(argv: list[str], timeout: float | None) -> tuple[int, bytes, bytes]:
    """Captured exec with a tty (container_exec tty: true, no terminal of our own): runc gives the
    process the terminal it runs on, so run runc on a new pseudo-terminal as its controlling tty
    and read what comes out (stdout and stderr together, as on any tty)."""
    import fcntl
    import pty
    import select
    import termios
    import time

    master, slave = pty.openpty()

    def controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_tty,
                             close_fds=True)
    finally:
        os.close(slave)
    out = bytearray()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([master], [], [], wait)
            if not ready:
                p.kill()
                p.wait()
                return -1, bytes(out), b""
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every process holding the terminal is gone
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return p.wait(), bytes(out), b""
