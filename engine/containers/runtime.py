"""runc and conmon.

Each running container has one conmon, started with `runc create` semantics: conmon forks
away from us (it outlives `berth`), runs `runc create`, reports the container's pid (or the
error) on a sync pipe, keeps the logs (k8s-file format: stdout and stderr apart), writes the
exit code to `<conmon dir>/<id>/exit/<id>` and runs `berth _conmon-exit ID RUN`. We then call
`runc start`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument, RuntimeFailure

if TYPE_CHECKING:
    from engine.context import Context

_which_cache: dict[str, str] = {}


def which(name: str, field: str) -> str:
    if name not in _which_cache:
        p = name if "/" in name else shutil.which(name)
        if not p or not os.path.exists(p):
            raise InvalidArgument(f"{field}: {name!r} not found on this host", field=field)
        _which_cache[name] = p
    return _which_cache[name]


def runc_argv(ctx: Context) -> list[str]:
    return [which(ctx.config.runtime, "runtime"), "--root", str(ctx.runc_root)]


def runc(ctx: Context, *args: str, check: bool = True, timeout: float | None = 60) -> subprocess.CompletedProcess:
    p = subprocess.run([*runc_argv(ctx), *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeFailure(f"runc {args[0]}: {_runc_error(p.stderr)}")
    return p


def _runc_error(stderr: str) -> str:
    """runc logs JSON or logfmt lines; keep the message of the last error."""
    msg = stderr.strip().splitlines()[-1] if stderr.strip() else "failed"
    if msg.startswith("{"):
        try:
            return json.loads(msg).get("msg", msg)
        except ValueError:
            return msg
    if 'msg="' in msg:
        return msg.split('msg="', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
    return msg


def state(ctx: Context, cid: str) -> dict[str, Any] | None:
    """runc's view (status: created/running/paused/stopped), None when runc does not know it."""
    p = runc(ctx, "state", cid, check=False)
    if p.returncode != 0:
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def conmon_dir(ctx: Context, cid: str) -> Path:
    return ctx.conmon_dir / cid


def exit_file(ctx: Context, cid: str) -> Path:
    return conmon_dir(ctx, cid) / "exit" / cid


def read_exit(ctx: Context, cid: str) -> int | None:
    try:
        return int(exit_file(ctx, cid).read_text().strip() or "255")
    except (FileNotFoundError, ValueError):
        return None


def pid_alive(pid: int, comm: str | None = None) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return False
    if ") Z " in st or ") X " in st:
        return False
    if comm is not None and f"({comm})" not in st:
        return False
    return True


def engine_argv(ctx: Context) -> list[str]:
    """How conmon, health loops and restarts call back into Berth."""
    return [sys.executable, "-m", "engine", *ctx.base_args()]


def engine_env() -> dict[str, str]:
    env = dict(os.environ)
    pkg_parent = str(Path(__file__).resolve().parents[2])
    pp = env.get("PYTHONPATH", "")
    if pkg_parent not in pp.split(os.pathsep):
        env["PYTHONPATH"] = pkg_parent + (os.pathsep + pp if pp else "")
    env.pop("NOTIFY_SOCKET", None)
    env.pop("LISTEN_FDS", None)
    return env


def scope_argv(ctx: Context, what: str, cid: str) -> list[str]:
    """Under systemd, a process that must outlive its caller (a container's monitor, its health
    loop) starts in a transient scope of its own, `berth-<what>-<id12>-<random>.scope`;
    otherwise it would stay in the caller's unit (an SSH session, the berth-restore service)
    and be killed with it. Without systemd (or with config systemd_scopes = "no"): nothing."""
    mode = ctx.config.systemd_scopes
    if mode not in ("auto", "yes", "no"):
        raise InvalidArgument(f"systemd_scopes: {mode!r} is not one of auto, yes, no", field="systemd_scopes")
    if mode == "no" or (mode == "auto" and not os.path.isdir("/run/systemd/system")):
        return []
    exe = shutil.which("systemd-run")
    if exe is None:
        if mode == "yes":
            raise InvalidArgument("systemd_scopes: 'yes' but systemd-run is not on this host",
                                  field="systemd_scopes")
        return []
    return [exe, "--scope", "--quiet", "--collect", f"--unit=berth-{what}-{cid[:12]}-{os.urandom(3).hex()}", "--"]


def start_conmon(ctx: Context, cid: str, name: str, bundle: Path, log_path: Path, run: int,
                 tty: bool, stdin: bool, log_size_max: int = 0, guard: Path | None = None) -> tuple[int, int]:
    """Start conmon (which runs `runc create`); return (container pid, conmon pid)."""
    cdir = conmon_dir(ctx, cid)
    shutil.rmtree(cdir, ignore_errors=True)
    (cdir / "exit").mkdir(parents=True)
    ctx.runc_root.mkdir(parents=True, exist_ok=True)
    runc_path = which(ctx.config.runtime, "runtime")
    argv = [
        which(ctx.config.conmon, "conmon"), "--api-version", "1",
        "-c", cid, "-u", cid, "-n", name, "-r", runc_path, "-b", str(bundle),
        "-p", str(cdir / "pidfile"), "-P", str(cdir / "conmon.pid"),
        "-l", f"k8s-file:{log_path}", "--exit-dir", str(cdir / "exit"),
        "--socket-dir-path", str(cdir), "--runtime-arg", "--root", "--runtime-arg", str(ctx.runc_root),
        "--log-level", "error",
    ]
    exit_argv = [sys.executable, "-m", "engine", *ctx.base_args(), "_conmon-exit", cid, str(run)]
    if guard is not None:
        # An attached client handles this run's end itself; only if it went away (its record
        # still exists a moment later) does Berth's exit handler run. Saves a Python start per run.
        exit_argv = ["/bin/sh", "-c", 'sleep 1; [ -e "$0" ] || exit 0; exec "$@"', str(guard), *exit_argv]
    argv += ["--exit-command", exit_argv[0]]
    for a in exit_argv[1:]:
        argv += ["--exit-command-arg", a]
    if log_size_max > 0:
        argv += ["--log-size-max", str(log_size_max)]
    if tty:
        argv.append("-t")
    if stdin:
        argv.append("-i")
    argv = scope_argv(ctx, "conmon", cid) + argv
    r, w = os.pipe()
    env = engine_env()
    env["_OCI_SYNCPIPE"] = str(w)
    errf = open(cdir / "conmon.err", "w+b")  # not a pipe: the daemonized conmon keeps it open
    try:
        proc = subprocess.Popen(argv, env=env, pass_fds=(w,), cwd=str(bundle), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
    except OSError as e:
        errf.close()
        os.close(r)
        os.close(w)
        raise RuntimeFailure(f"conmon: cannot start: {e}") from None
    os.close(w)
    # conmon writes one JSON line {"data": pid} (or {"data": -1, "message": ...}) once
    # `runc create` is done; the pipe stays open in the container, so read just that line.
    pid = -1
    message = ""
    buf = b""
    with os.fdopen(r, "rb", buffering=0) as f:
        while True:
            chunk = f.read(4096)
            if not chunk:
                break
            buf += chunk
            done = False
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "data" in msg:
                    pid = int(msg["data"])
                    message = msg.get("message", message)
                    done = True
            if done:
                break
    rc = proc.wait()
    errf.seek(0)
    err = errf.read().decode(errors="replace").strip()
    errf.close()
    if pid <= 0:
        raise RuntimeFailure(_clean_create_error(message or err or f"conmon exited {rc}"))
    conmon_pid = 0
    for _ in range(200):
        try:
            conmon_pid = int((cdir / "conmon.pid").read_text().strip())
            break
        except (FileNotFoundError, ValueError):
            time.sleep(0.005)
    return pid, conmon_pid


def start_created(ctx: Context, cid: str, pid: int) -> str | None:
    """Let a created container's process go on to exec its command; None, or the error.

    With runc this is done here rather than by `runc start`, saving a Go program's start (about
    9 ms of every container start): `runc create` leaves the container's init blocked writing to
    `<runc root>/<id>/exec.fifo`, and `runc start` only opens that fifo, reads the byte and removes
    the fifo (runc then reports the container as running). When the runtime is not runc, or the
    fifo is not there, `runc start` runs as before. Berth's specs carry no hooks, so there are no
    poststart hooks for `runc start` to run."""
    fifo = ctx.runc_root / cid / "exec.fifo"
    if os.path.basename(which(ctx.config.runtime, "runtime")) != "runc" or not fifo.exists():
        return _start_cli(ctx, cid)
    import select

    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return _start_cli(ctx, cid)
    data = b""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        deadline = time.monotonic() + 60
        while True:
            if poller.poll(100):
                try:
                    chunk = os.read(fd, 64)
                except BlockingIOError:
                    continue
                if not chunk:
                    break  # the writer is done
                data += chunk
            elif not pid_alive(pid):
                break
            elif time.monotonic() > deadline:
                return "timed out waiting for the container process to take the start signal"
    finally:
        os.close(fd)
    if not data:
        return "the container process died before it could be started"
    try:
        fifo.unlink()
    except FileNotFoundError:
        pass
    return None


def _start_cli(ctx: Context, cid: str) -> str | None:
    p = runc(ctx, "start", cid, check=False)
    return None if p.returncode == 0 else _runc_error(p.stderr)


def _clean_create_error(message: str) -> str:
    m = _runc_error(message.strip()) if 'msg="' in message else message.strip()
    for prefix in ("runc create failed: ", "unable to start container process: "):
        if m.startswith(prefix):
            m = m[len(prefix):]
    return m


def attach_socket(ctx: Context, cid: str) -> Path:
    return conmon_dir(ctx, cid) / cid / "attach"


def ctl_fifo(bundle: Path) -> Path:
    return bundle / "ctl"


def kill(ctx: Context, cid: str, sig: int, all_procs: bool = False) -> bool:
    args = ["kill"] + (["--all"] if all_procs else []) + [cid, str(sig)]
    return runc(ctx, *args, check=False).returncode == 0


def delete(ctx: Context, cid: str) -> None:
    if (ctx.runc_root / cid).exists():  # runc keeps its state there; skip the exec when gone
        runc(ctx, "delete", "--force", cid, check=False)


DEFAULT_CGROUP_PARENT = "/berth"


def cgroups_path(hc: dict[str, Any], cid: str) -> str:
    """The container's cgroup (runc's cgroupfs path): under HostConfig.CgroupParent, or /berth."""
    parent = (hc.get("CgroupParent") or "").strip("/")
    return f"/{parent}/{cid}" if parent else f"{DEFAULT_CGROUP_PARENT}/{cid}"


def cgroup_dirs(cid: str, path: str = "") -> list[Path]:
    """The container's cgroup directories (v1: one per hierarchy; v2: one); `path` as
    `cgroups_path` gives it (default: under /berth)."""
    rel = (path or f"{DEFAULT_CGROUP_PARENT}/{cid}").strip("/")
    base = Path("/sys/fs/cgroup")
    return [p for p in [*base.glob(f"*/{rel}"), base / rel] if p.is_dir()]


def reap_cgroup(cid: str, timeout: float = 5.0, path: str = "") -> None:
    """Kill whatever is left in the container's cgroups and remove them: what `runc delete`
    does, for a container whose runc state is gone (a start cut short, a crash)."""
    dirs = cgroup_dirs(cid, path)
    if not dirs:
        return
    end = time.monotonic() + timeout
    while True:
        pids = set()
        for d in dirs:
            for procs in d.rglob("cgroup.procs"):
                try:
                    pids.update(int(x) for x in procs.read_text().split())
                except (OSError, ValueError):
                    continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not pids or time.monotonic() > end:
            break
        time.sleep(0.02)
    for d in dirs:
        for sub in sorted((p for p in d.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                sub.rmdir()
            except OSError:
                pass
        try:
            d.rmdir()
        except OSError:
            pass
