"""Container operations, independent of the CLI: what `berth` verbs and `berth apply` call.

Records follow docs/interfaces.md: the inspect document at `<containers_dir>/<id>/container.json`.
Per-container state changes happen under the container's lock; name reservation under
`container-names`. A failed create or start leaves nothing behind (no record for create, no
mount, netns, cgroup or monitor for start).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.containers import config as cfgmod
from engine.containers import deps, rootfs, runtime, store
from engine.errors import BerthError, Conflict, InvalidArgument, NotFound, RuntimeFailure
from engine.util.lock import locked

if TYPE_CHECKING:
    from engine.context import Context

DEFAULT_STOP_TIMEOUT = 10


def _state_created() -> dict[str, Any]:
    return {"Status": "created", "Running": False, "Paused": False, "Restarting": False, "OOMKilled": False,
            "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "", "StartedAt": store.ZERO_TIME,
            "FinishedAt": store.ZERO_TIME}


def _berth(rec: dict[str, Any]) -> dict[str, Any]:
    return rec.setdefault("_berth", {"run": 0, "user_stopped": False, "conmon_pid": 0, "health_pid": 0,
                                     "backoff": 0.0})


# ----------------------------------------------------------------------------- create
def create(ctx: Context, name: str | None, body: dict[str, Any], warnings: list[str] | None = None) -> str:
    """Create a container from a Docker create body; returns its ID. Nothing is left on failure."""
    if warnings is None:
        warnings = []
    if not isinstance(body, dict):
        raise InvalidArgument("body: expected an object", field="body")
    image_ref = body.get("Image")
    if not image_ref or not isinstance(image_ref, str):
        raise InvalidArgument("Image: an image is required", field="Image")
    if name:
        name = cfgmod.validate_name(name)
    image = deps.resolve_image(ctx, image_ref)
    image_cfg = (image.config or {}).get("config") or {}
    cid = store.new_id()
    hc = cfgmod.host_config(body.get("HostConfig"))
    cfg, args = cfgmod.container_config(body, image_cfg, image_ref, cid)
    mounts = cfgmod.mounts(body, hc, image_cfg, _volumes_from(ctx, hc))
    deps.network_validate(ctx, {**body, "HostConfig": hc})
    for key, ref in cfgmod.joined_containers(hc).items():
        if key != "NetworkMode":  # (the networks area checks its own)
            _find_joined(ctx, key, ref)

    d = store.cdir(ctx, cid)
    rec: dict[str, Any] = {
        "Id": cid,
        "Created": store.now(),
        "Path": args[0],
        "Args": args[1:],
        "State": _state_created(),
        "Image": image.id,
        "ResolvConfPath": str(d / "resolv.conf"),
        "HostnamePath": str(d / "hostname"),
        "HostsPath": str(d / "hosts"),
        "LogPath": str(d / "ctr.log"),
        "Name": "",
        "RestartCount": 0,
        "Driver": "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": hc,
        "GraphDriver": {"Name": "overlay", "Data": {
            "LowerDir": ":".join([str(d / "init"), *(str(p) for p in image.layer_dirs())]),
            "UpperDir": str(d / "upper"), "WorkDir": str(d / "work"), "MergedDir": str(d / "merged")}},
        "Mounts": [],
        "Config": cfg,
        "NetworkSettings": _empty_netsettings(),
        "NetworkingConfig": body.get("NetworkingConfig") or {"EndpointsConfig": {}},
        "_berth": {"run": 0, "user_stopped": False, "conmon_pid": 0, "health_pid": 0, "backoff": 0.0,
                   "warnings": warnings},
    }
    acquired: list[str] = []
    try:
        with locked(ctx, "container-names"):
            if name:
                other = store.name_in_use(ctx, name)
                if other:
                    raise Conflict(f"name: the container name \"/{name}\" is already in use by container "
                                   f"\"{other}\". You have to remove (or rename) that container to be able to "
                                   "reuse that name.", field="name")
            else:
                name = store.generate_name(ctx)
            rec["Name"] = "/" + name
            d.mkdir(parents=True)
            (d / "upper").mkdir()
            (d / "work").mkdir()
            if not any(m["Type"] == "volume" or m.get("_create") for m in mounts):
                rec["Mounts"] = mounts
                store.save(ctx, rec)  # reserves the name; nothing more to do
                return cid
            store.save(ctx, rec)  # reserves the name
        for m in mounts:
            if m["Type"] == "bind" and m.pop("_create", False):
                os.makedirs(m["Source"], exist_ok=True)
            if m["Type"] == "volume":
                vname, path = deps.volume_acquire(ctx, m["Name"], cid, None, bool(m.get("_nocopy")),
                                                  m.get("_opts"), m.get("_labels"))
                acquired.append(vname)
                m["Name"], m["Source"] = vname, path
        rec["Mounts"] = mounts
        store.save(ctx, rec)
    except BaseException:
        for v in acquired:
            try:
                deps.volume_release(ctx, v, cid, True)
            except BerthError:
                pass
        shutil.rmtree(d, ignore_errors=True)
        raise
    return cid


def _volumes_from(ctx: Context, hc: dict[str, Any]) -> list[dict[str, Any]]:
    """The mounts `HostConfig.VolumesFrom` brings in, from the named containers' records."""
    out: list[dict[str, Any]] = []
    for vf in hc.get("VolumesFrom") or []:
        ref, rw = cfgmod.parse_volumes_from(vf)
        try:
            src = store.load(ctx, store.resolve_id(ctx, ref))
        except NotFound:
            raise NotFound(f"VolumesFrom: no such container: {ref}", field="VolumesFrom") from None
        seen = {m["Destination"] for m in out}
        out.extend(m for m in cfgmod.inherit_mounts(src, rw) if m["Destination"] not in seen)
    return out


def _empty_netsettings() -> dict[str, Any]:
    return {"Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {}, "IPAddress": "", "IPPrefixLen": 0,
            "Gateway": "", "MacAddress": "", "Networks": {}}


# ----------------------------------------------------------------------------- start
def start(ctx: Context, ref: str) -> str:
    """Start a created or stopped container (no-op when running); returns its ID."""
    return start_attached(ctx, ref, None)[0]


def start_attached(ctx: Context, ref: str, attach: Callable[[str], Any] | None,
                   client_finalizes: bool = False) -> tuple[str, Any]:
    """Like start; `attach(cid)` is called between `runc create` and `runc start` (foreground
    runs connect to the output there) and its result is returned. `client_finalizes`: the caller
    will record the exit and remove the container itself (foreground `run --rm`); the monitor's
    exit handler then only runs if the caller went away."""
    cid = store.resolve_id(ctx, ref)
    with store.locked_record(ctx, cid) as rec:
        if rec["State"]["Running"] and live_running(ctx, rec):
            return cid, None
        if rec["State"]["Running"]:
            _finalize_locked(ctx, rec)
        _berth(rec).update(user_stopped=False, backoff=0.0)
        rec["State"]["Restarting"] = False
        rec["RestartCount"] = 0  # a user's start resets the restart policy's count, as in dockerd
        attached = _start_locked(ctx, rec, attach=attach, client_finalizes=client_finalizes)
    _spawn_health(ctx, cid)
    return cid, attached


def current_run(ctx: Context, cid: str) -> int:
    return int(_berth(store.load(ctx, cid)).get("run", 0))


def _cgroup_v2() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def _init_path(ctx: Context) -> str | None:
    p = ctx.config.init_path
    if p == "tini" and shutil.which("tini-static"):
        p = "tini-static"
    found = p if "/" in p else shutil.which(p)
    return os.path.realpath(found) if found else None


def _start_locked(ctx: Context, rec: dict[str, Any], *, attach: Callable[[str], Any] | None = None,
                  client_finalizes: bool = False) -> Any:
    """Mount, network, spec, conmon, runc start. Undoes everything on failure. Caller holds the lock."""
    from engine.containers import spec as specmod
    from engine.containers import users
    from engine.containers.paths import secure_join, write_transient

    cid = rec["Id"]
    d = store.cdir(ctx, cid)
    b = _berth(rec)
    run = int(b.get("run", 0)) + 1
    cfg, hc = rec["Config"], rec["HostConfig"]
    image = deps.resolve_image(ctx, rec["Image"])
    merged = d / "merged"
    warnings: list[str] = []
    mounted = net_done = created = False
    try:
        rootfs.umount(merged)
        rootfs.mount_overlay([str(p) for p in image.layer_dirs()], d / "upper", d / "work", merged,
                             init=rootfs.make_init_layer(d / "init"), volatile=bool(hc.get("AutoRemove")))
        mounted = True
        volume_paths: dict[str, str] = {}
        for m in rec.get("Mounts") or []:
            if m["Type"] == "volume":
                inside = secure_join(merged, m["Destination"])
                _vname, path = deps.volume_acquire(ctx, m["Name"], cid, inside, bool(m.get("_nocopy")))
                volume_paths[m["Destination"]] = path
                m["Source"] = path
            elif m["Type"] == "bind" and not os.path.exists(m["Source"]):
                raise InvalidArgument(f"Mounts: bind source path does not exist: {m['Source']}", field="Mounts")
        user = users.resolve(merged, cfg.get("User") or "", hc.get("GroupAdd"))
        wd = cfg.get("WorkingDir")
        if wd:
            p = secure_join(merged, wd)
            if not p.is_dir():
                p.mkdir(parents=True, exist_ok=True)
        mode = hc.get("NetworkMode")
        host_uts = mode == "host" or hc.get("UTSMode") == "host"
        write_transient(d / "hostname", (os.uname().nodename if host_uts else cfg["Hostname"]) + "\n")
        netset = deps.network_setup(ctx, rec)
        net_done = True
        rec["NetworkSettings"] = netset
        if mode == "host":
            netns: str | None = None
        else:
            netns = netset.get("SandboxKey") or ""
        if hc.get("IpcMode") == "shareable":
            rootfs.mount_shm(shm_dir(ctx, cid), int(hc.get("ShmSize") or specmod.DEFAULT_SHM))
        facts = specmod.HostFacts(cgroup_v2=_cgroup_v2(), seccomp_profile=ctx.config.seccomp_profile,
                                  init_path=_init_path(ctx) if hc.get("Init") else None)
        inp = specmod.SpecInputs(
            record=rec, rootfs=str(merged), user=user, netns=netns, hostname_file=str(d / "hostname"),
            hosts_file=str(d / "hosts") if (d / "hosts").exists() else None,
            resolv_file=str(d / "resolv.conf") if (d / "resolv.conf").exists() else None,
            volume_paths=volume_paths, cgroups_path=runtime.cgroups_path(hc, cid),
            namespaces=_namespace_paths(ctx, rec))
        spec = specmod.build(inp, facts, warnings)
        write_transient(d / "config.json", json.dumps(spec))
        runtime.delete(ctx, cid)  # a stale runc state from a crash must not block the new run
        try:
            pid, conmon_pid = runtime.start_conmon(
                ctx, cid, rec["Name"].lstrip("/"), d, Path(rec["LogPath"]), run,
                tty=bool(cfg.get("Tty")), stdin=bool(cfg.get("OpenStdin")), log_size_max=_log_size_max(hc),
                guard=d / store.RECORD if client_finalizes else None)
        except RuntimeFailure as e:
            raise _start_error(e.message, rec) from None
        created = True
        b.update(run=run, conmon_pid=conmon_pid, warnings=warnings)
        attached = attach(cid) if attach is not None else None
        _runc_start(ctx, rec, pid)
        now = store.now()
        rec["State"].update(Status="running", Running=True, Paused=False, Restarting=False, OOMKilled=False,
                            Dead=False, Pid=pid, ExitCode=0, Error="", StartedAt=now,
                            FinishedAt=store.ZERO_TIME)
        if cfg.get("Healthcheck") and (cfg["Healthcheck"].get("Test") or ["NONE"])[0] != "NONE":
            rec["State"]["Health"] = {"Status": "starting", "FailingStreak": 0, "Log": []}
        else:
            rec["State"].pop("Health", None)
        return attached
    except BaseException as e:
        if created:
            runtime.delete(ctx, cid)
            _wait_conmon_gone(ctx, cid)
        if net_done:
            try:
                deps.network_teardown(ctx, rec)
            except BerthError:
                pass
        if mounted:
            rootfs.umount(merged)
        _release_shm(ctx, cid)
        shutil.rmtree(runtime.conmon_dir(ctx, cid), ignore_errors=True)
        rec["NetworkSettings"] = _empty_netsettings()
        if isinstance(e, BerthError):
            rec["State"]["Error"] = e.message
        raise


def shm_dir(ctx: Context, cid: str) -> Path:
    """Where a shareable container's /dev/shm is mounted on the host (runroot: gone at boot)."""
    return ctx.runroot / "shm" / cid


def _release_shm(ctx: Context, cid: str) -> None:
    d = shm_dir(ctx, cid)
    if d.exists():
        rootfs.umount(d)
        d.rmdir()


def _find_joined(ctx: Context, key: str, ref: str) -> dict[str, Any]:
    try:
        return store.load(ctx, store.resolve_id(ctx, ref))
    except NotFound:
        raise NotFound(f"{key}: no such container: {ref}", field=key) from None


def _namespace_paths(ctx: Context, rec: dict[str, Any]) -> dict[str, str | None]:
    """PidMode/IpcMode/UTSMode as spec inputs: {"pid": None} shares the host's namespace,
    {"ipc": "/proc/N/ns/ipc"} joins a running container's; a kind not named gets a new one.
    "ipc-shm" is where /dev/shm comes from (the host's or the joined container's), and
    "ipc" with "ipc-shm" of "" is IpcMode none (a namespace of its own, no /dev/shm)."""
    hc = rec["HostConfig"]
    out: dict[str, str | None] = {}
    for key, kind in (("PidMode", "pid"), ("IpcMode", "ipc")):
        mode = hc.get(key) or ""
        if mode == "host":
            out[kind] = None
        elif mode.startswith("container:"):
            target = _find_joined(ctx, key, mode[10:])
            pid = int(target["State"].get("Pid") or 0)
            if target["Id"] == rec["Id"] or not target["State"].get("Running") or pid <= 0 \
                    or not os.path.exists(f"/proc/{pid}/ns/{kind}"):
                raise Conflict(f"{key}: cannot join the {kind} namespace of container {mode[10:]}: it is not "
                               "running", field=key)
            out[kind] = f"/proc/{pid}/ns/{kind}"
            if kind == "ipc":
                if (target["HostConfig"].get("IpcMode") or "") != "shareable" or not rootfs.is_mounted(
                        shm_dir(ctx, target["Id"])):
                    raise Conflict(f"IpcMode: cannot join the IPC namespace of container {mode[10:]}: it is not "
                                   "shareable (create it with IpcMode shareable)", field="IpcMode")
                out["ipc-shm"] = str(shm_dir(ctx, target["Id"]))
    if hc.get("IpcMode") == "shareable":
        out["ipc-shm"] = str(shm_dir(ctx, rec["Id"]))
    elif hc.get("IpcMode") == "host":
        out["ipc-shm"] = "/dev/shm"
    elif hc.get("IpcMode") == "none":
        out["ipc-shm"] = ""
    if hc.get("UTSMode") == "host":
        out["uts"] = None
    return out


def _log_size_max(hc: dict[str, Any]) -> int:
    """LogConfig.Config["max-size"] (json-file's option) -> conmon's --log-size-max."""
    v = ((hc.get("LogConfig") or {}).get("Config") or {}).get("max-size")
    if not v:
        return 0
    from engine.containers.units import size

    return size(v, "LogConfig")


def _runc_start(ctx: Context, rec: dict[str, Any], pid: int) -> None:
    err = runtime.start_created(ctx, rec["Id"], pid)
    if err is not None:
        raise _start_error(err, rec)


def _start_error(msg: str, rec: dict[str, Any]) -> RuntimeFailure:
    """runc's start error; naming Cmd when it is about the command (runc: `exec: "x": ...`)."""
    if "executable file not found" in msg or 'exec: "' in msg:
        cmd = [rec.get("Path", ""), *rec.get("Args", [])]
        return RuntimeFailure(f"Cmd {cmd!r}: failed to start the container process: {msg}", field="Cmd")
    return RuntimeFailure(f"failed to start container {rec['Name'].lstrip('/')}: {msg}")


def _wait_conmon_gone(ctx: Context, cid: str, timeout: float = 5) -> None:
    try:
        pid = int((runtime.conmon_dir(ctx, cid) / "conmon.pid").read_text())
    except (OSError, ValueError):
        return
    end = time.monotonic() + timeout
    while runtime.pid_alive(pid, "conmon") and time.monotonic() < end:
        time.sleep(0.01)


# ----------------------------------------------------------------------------- exit / finalize
def live_running(ctx: Context, rec: dict[str, Any]) -> bool:
    """Whether the recorded run is really alive (its conmon exists and no exit code yet)."""
    if not rec["State"]["Running"]:
        return False
    if runtime.read_exit(ctx, rec["Id"]) is not None:
        return False
    pid = int(_berth(rec).get("conmon_pid") or 0)
    # after a reboot the runroot is empty and the recorded pid may belong to another process
    try:
        if int((runtime.conmon_dir(ctx, rec["Id"]) / "conmon.pid").read_text()) != pid:
            return False
    except (OSError, ValueError):
        return False
    return runtime.pid_alive(pid, "conmon")


def _oom_killed(rec: dict[str, Any]) -> bool:
    cg = runtime.cgroups_path(rec["HostConfig"], rec["Id"])
    for p in (f"/sys/fs/cgroup/memory{cg}/memory.oom_control", f"/sys/fs/cgroup{cg}/memory.events"):
        try:
            for line in Path(p).read_text().splitlines():
                k, _, v = line.partition(" ")
                if k == "oom_kill" and int(v) > 0:
                    return True
        except (OSError, ValueError):
            continue
    return False


def finalize(ctx: Context, cid: str, run: int | None = None, exit_code: int | None = None) -> bool:
    """Record the end of a run and release what it held (runc state, netns, mounts, health loop).
    Idempotent: only the first caller for a given run does the work. Returns whether it did."""
    try:
        with store.locked_record(ctx, cid) as rec:
            return _finalize_locked(ctx, rec, run, exit_code)
    except NotFound:
        return False


def _finalize_locked(ctx: Context, rec: dict[str, Any], run: int | None = None,
                     exit_code: int | None = None) -> bool:
    cid = rec["Id"]
    b = _berth(rec)
    if run is not None and int(b.get("run", 0)) != run:
        return False
    st = rec["State"]
    if not st["Running"]:
        return False
    code = runtime.read_exit(ctx, cid)
    if code is None:
        code = exit_code if exit_code is not None else 255
    oom = code == 137 and bool(rec["HostConfig"].get("Memory")) and _oom_killed(rec)
    runtime.delete(ctx, cid)
    _kill_health(rec)
    try:
        deps.network_teardown(ctx, rec)
    except Exception as e:  # noqa: BLE001 - the run is over whatever the networks area says
        _warn(f"{cid[:12]}: network teardown: {e}")
    rootfs.umount(store.cdir(ctx, cid) / "merged")
    _release_shm(ctx, cid)
    st.update(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0, ExitCode=code,
              OOMKilled=oom, FinishedAt=store.now())
    rec["NetworkSettings"] = {**_empty_netsettings(), "Networks": {
        k: {**v, "IPAddress": "", "Gateway": "", "EndpointID": "", "MacAddress": "", "IPPrefixLen": 0}
        for k, v in (rec["NetworkSettings"].get("Networks") or {}).items()}}
    b["conmon_pid"] = 0
    return True


def _kill_health(rec: dict[str, Any]) -> None:
    b = _berth(rec)
    pid = int(b.get("health_pid") or 0)
    if pid and runtime.pid_alive(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            if b"_health" in cmd and rec["Id"].encode() in cmd:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    b["health_pid"] = 0


def _spawn_health(ctx: Context, cid: str) -> None:
    import subprocess

    with store.locked_record(ctx, cid) as rec:
        if "Health" not in rec["State"] or not rec["State"]["Running"]:
            return
        run = _berth(rec)["run"]
        p = subprocess.Popen([*runtime.scope_argv(ctx, "health", cid), *runtime.engine_argv(ctx), "_health", cid,
                              str(run)], env=runtime.engine_env(),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True, cwd="/")
        _berth(rec)["health_pid"] = p.pid


def next_backoff(previous: float, ran_seconds: float) -> float:
    """Docker's restart delay: 100 ms, doubling per restart up to a minute; back to 100 ms once
    a run lasted at least 10 seconds."""
    if ran_seconds >= 10 or previous <= 0:
        return 0.1
    return min(previous * 2, 60.0)


def should_restart(rec: dict[str, Any]) -> bool:
    if _berth(rec).get("user_stopped") or rec["HostConfig"].get("AutoRemove"):
        return False
    rp = rec["HostConfig"].get("RestartPolicy") or {}
    name = rp.get("Name") or "no"
    code = rec["State"]["ExitCode"]
    if name in ("always", "unless-stopped"):
        return True
    if name == "on-failure":
        maxc = int(rp.get("MaximumRetryCount") or 0)
        return code != 0 and (maxc == 0 or rec["RestartCount"] < maxc)
    return False


def on_exit(ctx: Context, cid: str, run: int) -> None:
    """conmon's exit command: record the exit, clean up, apply the restart policy."""
    finalize(ctx, cid, run)
    try:
        rec = store.load(ctx, cid)
    except NotFound:
        return
    if _berth(rec).get("run") != run or rec["State"]["Running"]:
        return
    if rec["HostConfig"].get("AutoRemove"):
        try:
            # we are the monitor's exit command: it waits for us, so do not wait for it
            remove(ctx, cid, force=True, volumes=True, wait_monitor=False)
        except NotFound:
            pass
        return
    if not should_restart(rec):
        return

    def plan(r: dict[str, Any]) -> float:
        b = _berth(r)
        ran = store.parse_time(r["State"]["FinishedAt"]) - store.parse_time(r["State"]["StartedAt"])
        delay = next_backoff(float(b.get("backoff") or 0), ran)
        b["backoff"] = delay
        r["State"].update(Restarting=True, Status="restarting")
        return delay

    delay = store.modify(ctx, cid, plan)
    time.sleep(delay)
    try:
        with store.locked_record(ctx, cid) as rec:
            b = _berth(rec)
            if b.get("run") != run or not rec["State"]["Restarting"] or b.get("user_stopped"):
                return
            rec["RestartCount"] = int(rec.get("RestartCount", 0)) + 1
            try:
                _start_locked(ctx, rec)
            except BerthError as e:
                rec["State"].update(Restarting=False, Status="exited", Error=e.message)
                return
    except NotFound:
        return
    _spawn_health(ctx, cid)


# ----------------------------------------------------------------------------- stop / kill
def _wait_exit(ctx: Context, cid: str, conmon_pid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    delay = 0.002
    while True:
        if runtime.read_exit(ctx, cid) is not None or not runtime.pid_alive(conmon_pid, "conmon"):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def stop(ctx: Context, ref: str, timeout: int | None = None, signal_name: str | None = None) -> str:
    cid = store.resolve_id(ctx, ref)

    def mark(rec: dict[str, Any]) -> tuple[bool, int, int, str]:
        b = _berth(rec)
        b["user_stopped"] = True
        if rec["State"]["Restarting"]:
            rec["State"].update(Restarting=False, Status="exited")
        return rec["State"]["Running"], int(b.get("conmon_pid") or 0), int(b.get("run", 0)), \
            rec["Config"].get("StopSignal") or "SIGTERM"

    running, conmon_pid, run, stop_sig = store.modify(ctx, cid, mark)
    if not running:
        return cid
    rec = store.load(ctx, cid)
    if timeout is None:
        timeout = rec["Config"].get("StopTimeout")
        if timeout is None:
            timeout = DEFAULT_STOP_TIMEOUT
    if rec["State"].get("Paused"):
        runtime.runc(ctx, "resume", cid, check=False)
    sig = cfgmod.parse_signal(signal_name or stop_sig, "signal")
    if int(timeout) < 0:
        timeout = 10**9
    if not runtime.pid_alive(conmon_pid, "conmon"):
        finalize(ctx, cid, run)
        return cid
    runtime.kill(ctx, cid, sig)
    if not _wait_exit(ctx, cid, conmon_pid, float(timeout)):
        runtime.kill(ctx, cid, signal.SIGKILL, all_procs=True)
        if not _wait_exit(ctx, cid, conmon_pid, 30):
            raise RuntimeFailure(f"container {ref}: did not exit after SIGKILL")
    finalize(ctx, cid, run)
    return cid


def kill(ctx: Context, ref: str, signal_name: str = "KILL") -> str:
    cid = store.resolve_id(ctx, ref)
    rec = store.load(ctx, cid)
    sig = cfgmod.parse_signal(signal_name, "signal")
    if not rec["State"]["Running"]:
        raise Conflict(f"Cannot kill container: {ref}: container {cid} is not running", field="container")
    if sig == signal.SIGKILL or sig == cfgmod.parse_signal(rec["Config"].get("StopSignal") or "SIGTERM"):
        # like dockerd: killing with SIGKILL or the stop signal is a manual stop for restart policies
        store.modify(ctx, cid, lambda r: _berth(r).update(user_stopped=True))
    if sig == signal.SIGKILL and rec["State"].get("Paused"):
        runtime.runc(ctx, "resume", cid, check=False)
    if not runtime.kill(ctx, cid, sig):
        raise RuntimeFailure(f"Cannot kill container: {ref}: runc kill failed")
    if sig == signal.SIGKILL:
        b = _berth(rec)
        _wait_exit(ctx, cid, int(b.get("conmon_pid") or 0), 5)
    return cid


def restart(ctx: Context, ref: str, timeout: int | None = None) -> str:
    cid = stop(ctx, ref, timeout)
    return start(ctx, cid)


def pause(ctx: Context, ref: str) -> str:
    cid = store.resolve_id(ctx, ref)
    with store.locked_record(ctx, cid) as rec:
        if not rec["State"]["Running"]:
            raise Conflict(f"Container {cid} is not running", field="container")
        if rec["State"]["Paused"]:
            raise Conflict(f"Container {cid} is already paused", field="container")
        runtime.runc(ctx, "pause", cid)
        rec["State"].update(Paused=True, Status="paused")
    return cid


def unpause(ctx: Context, ref: str) -> str:
    cid = store.resolve_id(ctx, ref)
    with store.locked_record(ctx, cid) as rec:
        if not rec["State"]["Paused"]:
            raise Conflict(f"Container {cid} is not paused", field="container")
        runtime.runc(ctx, "resume", cid)
        rec["State"].update(Paused=False, Status="running")
    return cid


# ----------------------------------------------------------------------------- remove
def remove(ctx: Context, ref: str, force: bool = False, volumes: bool = False, wait_monitor: bool = True,
           background: bool = False) -> str:
    """Remove a container (killing it first with `force`). `background` (a foreground `run --rm`
    whose container has exited): the record goes at once, and `runc delete` plus deleting the
    directories happen in a detached helper, off the caller's critical path."""
    cid = store.resolve_id(ctx, ref)
    rec = store.load(ctx, cid)
    if rec["State"]["Running"] or rec["State"]["Restarting"]:
        if live_running(ctx, rec) and not force:
            raise Conflict(f"You cannot remove a running container {cid}. Stop the container before "
                           "attempting removal or force remove", field="container")
        if live_running(ctx, rec):
            store.modify(ctx, cid, lambda r: _berth(r).update(user_stopped=True))
            if rec["State"].get("Paused"):
                runtime.runc(ctx, "resume", cid, check=False)
            runtime.kill(ctx, cid, signal.SIGKILL, all_procs=True)
            _wait_exit(ctx, cid, int(_berth(rec).get("conmon_pid") or 0), 10)
    conmon_pid = int(_berth(rec).get("conmon_pid") or 0)
    with locked(ctx, f"container-{cid}"):
        try:
            rec = store.load(ctx, cid)
        except NotFound:
            return cid
        conmon_pid = int(_berth(rec).get("conmon_pid") or conmon_pid)
        _berth(rec)["user_stopped"] = True
        if not background:
            _finalize_locked(ctx, rec)
            runtime.delete(ctx, cid)
            # a start cut short (record still "created") or a lost runc state: nothing above
            # stopped the process or removed the cgroup, so do it here
            runtime.reap_cgroup(cid, path=runtime.cgroups_path(rec["HostConfig"], cid))
            if not conmon_pid:
                try:
                    conmon_pid = int((runtime.conmon_dir(ctx, cid) / "conmon.pid").read_text())
                except (OSError, ValueError):
                    pass
        _kill_health(rec)
        if not background:  # the background helper unmounts (an overlay unmount can take a while)
            rootfs.umount(store.cdir(ctx, cid) / "merged")
        _release_shm(ctx, cid)
        # the record goes whatever the other areas say: report their failures, keep removing
        try:
            deps.network_teardown(ctx, rec)
        except Exception as e:  # noqa: BLE001
            _warn(f"rm {cid[:12]}: network teardown: {e}")
        for m in rec.get("Mounts") or []:
            if m["Type"] == "volume" and m.get("Name"):
                try:
                    deps.volume_release(ctx, m["Name"], cid, volumes and not m.get("_from"))
                except Exception as e:  # noqa: BLE001
                    _warn(f"rm {cid[:12]}: volume {m['Name']}: {e}")
        (store.cdir(ctx, cid) / store.RECORD).unlink(missing_ok=True)
        if background:
            _cleanup_in_background(ctx, cid)
        else:
            shutil.rmtree(store.cdir(ctx, cid), ignore_errors=True)
            shutil.rmtree(runtime.conmon_dir(ctx, cid), ignore_errors=True)
    # the monitor finishes with its exit command (which finds no record); wait for it, like
    # docker rm waits for the shim
    end = time.monotonic() + (10 if wait_monitor else 0)
    while conmon_pid and runtime.pid_alive(conmon_pid, "conmon") and time.monotonic() < end:
        time.sleep(0.01)
    return cid


def _warn(msg: str) -> None:
    import sys

    print(f"WARNING: {msg}", file=sys.stderr)


TRASH_PREFIX = ".removed-"


def _cleanup_in_background(ctx: Context, cid: str) -> None:
    import subprocess

    trash = ctx.containers_dir / f"{TRASH_PREFIX}{cid}"
    os.rename(store.cdir(ctx, cid), trash)  # not a container dir any more (see store.ids)
    script = 'runc_root=$1; shift; "$@" --root "$runc_root" delete --force "$CID" >/dev/null 2>&1; ' \
             'umount "$TRASH/merged" 2>/dev/null || umount -l "$TRASH/merged" 2>/dev/null; ' \
             'exec rm -rf --one-file-system "$TRASH" "$CONMON_DIR"'
    subprocess.Popen(["/bin/sh", "-c", script, "sh", str(ctx.runc_root), runtime.which(ctx.config.runtime, "runtime")],
                     env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CID": cid,
                          "TRASH": str(trash), "CONMON_DIR": str(runtime.conmon_dir(ctx, cid))},
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, cwd="/")


def sweep_trash(ctx: Context) -> None:
    """Directories a background removal did not get to delete (a crash, a reboot)."""
    for p in ctx.containers_dir.glob(f"{TRASH_PREFIX}*"):
        cid = p.name[len(TRASH_PREFIX):]
        runtime.delete(ctx, cid)
        rootfs.umount(p / "merged")
        shutil.rmtree(p, ignore_errors=True)


# ----------------------------------------------------------------------------- wait / rename / update
def wait(ctx: Context, ref: str, condition: str = "not-running", poll: float = 0.05) -> int:
    """Block until the container stops; like dockerd, a stop its restart policy is about to
    undo (the container goes `restarting`, or a new run started) ends the wait too."""
    cid = store.resolve_id(ctx, ref)
    prev: tuple[int, bool] | None = None  # (run, restarting) at the last look
    while True:
        try:
            rec = store.load(ctx, cid)
        except NotFound:
            if condition == "removed":
                return 0
            raise
        st = rec["State"]
        if condition == "not-running" and not st["Running"] and not st["Restarting"]:
            return int(st["ExitCode"])
        now = (int(_berth(rec).get("run", 0)), bool(st["Restarting"]))
        if condition == "not-running" and prev is not None and not prev[1] and (now[1] or now[0] != prev[0]):
            return int(st["ExitCode"])
        prev = now
        if st["Running"] and not live_running(ctx, rec):
            finalize(ctx, cid, int(_berth(rec).get("run", 0)))
            continue
        time.sleep(poll)


def rename(ctx: Context, ref: str, new_name: str) -> str:
    cid = store.resolve_id(ctx, ref)
    new_name = cfgmod.validate_name(new_name)
    with locked(ctx, "container-names"):
        other = store.name_in_use(ctx, new_name, exclude=cid)
        if other:
            raise Conflict(f"name: Error when allocating new name: The container name \"/{new_name}\" is already "
                           f"in use by container \"{other}\"", field="name")
        store.modify(ctx, cid, lambda r: r.update(Name="/" + new_name))
    return cid


UPDATE_KEYS = {"Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuPeriod", "CpuQuota",
               "CpusetCpus", "CpusetMems", "PidsLimit", "BlkioWeight", "RestartPolicy"}


def update(ctx: Context, ref: str, changes: dict[str, Any]) -> list[str]:
    """Docker's update body: resource limits and RestartPolicy, live on a running container."""
    import json
    import tempfile

    from engine.containers import spec as specmod

    cid = store.resolve_id(ctx, ref)
    unknown = sorted(set(changes) - UPDATE_KEYS)
    if unknown:
        raise InvalidArgument(f"update: {unknown[0]!r} cannot be updated", field=unknown[0])
    with store.locked_record(ctx, cid) as rec:
        hc = dict(rec["HostConfig"])
        for k, v in changes.items():
            hc[k] = v
        if "NanoCpus" in changes and changes["NanoCpus"]:
            hc["CpuQuota"], hc["CpuPeriod"] = 0, 0
        if ("CpuQuota" in changes or "CpuPeriod" in changes) and (changes.get("CpuQuota") or changes.get("CpuPeriod")):
            hc["NanoCpus"] = 0
        if "Memory" in changes and "MemorySwap" not in changes and changes["Memory"]:
            old_swap = int(rec["HostConfig"].get("MemorySwap") or 0)
            if old_swap > 0 and old_swap < int(changes["Memory"]):
                hc["MemorySwap"] = 0
        hc = cfgmod.host_config(hc)
        if rec["HostConfig"].get("AutoRemove") and hc["RestartPolicy"]["Name"] != "no":
            raise InvalidArgument("RestartPolicy: cannot set a restart policy on an AutoRemove container",
                                  field="RestartPolicy")
        warnings: list[str] = []
        res = specmod.drop_unsupported(specmod.resources(hc), specmod.HostFacts(cgroup_v2=_cgroup_v2()), warnings)
        if rec["State"]["Running"] and live_running(ctx, rec):
            with tempfile.NamedTemporaryFile("w", suffix=".json", dir=str(store.cdir(ctx, cid))) as f:
                json.dump(res, f)
                f.flush()
                p = runtime.runc(ctx, "update", "-r", f.name, cid, check=False)
            if p.returncode != 0:
                raise RuntimeFailure(f"update {ref}: {runtime._runc_error(p.stderr)}")
        rec["HostConfig"] = hc
    return warnings


def restore(ctx: Context) -> list[str]:
    """At boot (the runroot is empty, every container process is gone): record stale runs as
    exited and release their mounts, then start `always` containers and `unless-stopped` ones
    the user did not stop, like dockerd does at start-up. Returns the names started."""
    started = []
    sweep_trash(ctx)
    for cid in _start_order(ctx):
        try:
            with store.locked_record(ctx, cid) as rec:
                if rec["State"]["Running"] and not live_running(ctx, rec):
                    _finalize_locked(ctx, rec)
                elif rec["State"]["Restarting"]:
                    rec["State"].update(Restarting=False, Status="exited")
                rootfs.umount(store.cdir(ctx, cid) / "merged")
                if rec["State"]["Running"]:
                    continue
                policy = (rec["HostConfig"].get("RestartPolicy") or {}).get("Name")
                b = _berth(rec)
                if policy == "always" or (policy == "unless-stopped" and not b.get("user_stopped")):
                    b["user_stopped"] = False
                    try:
                        _start_locked(ctx, rec)
                    except BerthError as e:
                        rec["State"]["Error"] = e.message
                        continue
                    started.append(rec["Name"].lstrip("/"))
                else:
                    continue
            _spawn_health(ctx, cid)
        except NotFound:
            continue
    return started


def _start_order(ctx: Context) -> list[str]:
    """Container IDs with each one after the containers whose namespaces it joins
    (`container:NAME` network, pid or ipc modes), so a restore starts the target first."""
    recs = store.all_records(ctx)

    def target(ref: str) -> str:
        try:
            return store.resolve_id(ctx, ref)
        except BerthError:  # gone, or ambiguous: nothing to wait for
            return ""

    deps_of = {r["Id"]: {target(x) for x in cfgmod.joined_containers(r.get("HostConfig") or {}).values()}
               for r in recs}
    order: list[str] = []
    seen: set[str] = set()

    def visit(cid: str, path: frozenset[str]) -> None:
        if cid in seen or cid in path or cid not in deps_of:
            return
        for d in sorted(deps_of[cid]):
            visit(d, path | {cid})
        seen.add(cid)
        order.append(cid)

    for r in recs:
        visit(r["Id"], frozenset())
    return order


# ----------------------------------------------------------------------------- read side
def _public(rec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rec.items() if not k.startswith("_")}
    out["Mounts"] = [{k: v for k, v in m.items() if not k.startswith("_")} for m in rec.get("Mounts") or []]
    return out


def _live(ctx: Context, rec: dict[str, Any]) -> dict[str, Any]:
    """Merge the live state: a run whose monitor is gone is reported as exited."""
    st = rec["State"]
    if st["Running"] and not live_running(ctx, rec):
        code = runtime.read_exit(ctx, rec["Id"])
        st.update(Running=False, Paused=False, Status="exited", Pid=0,
                  ExitCode=255 if code is None else code)
    return rec


def inspect(ctx: Context, name_or_id: str) -> dict[str, Any]:
    cid = store.resolve_id(ctx, name_or_id)
    return _public(_live(ctx, store.load(ctx, cid)))


def list_all(ctx: Context) -> list[dict[str, Any]]:
    recs = [_public(_live(ctx, r)) for r in store.all_records(ctx)]
    recs.sort(key=lambda r: r.get("Created", ""), reverse=True)
    return recs


def image_users(ctx: Context, image_id: str) -> list[str]:
    """Names of the containers (any state) that use the image with this ID."""
    want = image_id if image_id.startswith("sha256:") else "sha256:" + image_id
    return [r["Name"].lstrip("/") for r in store.all_records(ctx) if r.get("Image") == want]


def exec_run(ctx: Context, ref: str, cmd: list[str], **kw: Any) -> tuple[int, bytes, bytes]:
    """See engine.containers.execs.exec_run."""
    from engine.containers import execs

    return execs.exec_run(ctx, ref, cmd, **kw)


def logs(ctx: Context, ref: str, *, tail: int | None = None, since: float | None = None,
         until: float | None = None, timestamps: bool = False) -> list[tuple[str, bytes]]:
    """The container's log as (stream, data) pairs, stdout and stderr apart."""
    from engine.containers import logs as logmod

    rec = store.load(ctx, store.resolve_id(ctx, ref))
    out: list[tuple[str, bytes]] = []
    logmod.read(rec["LogPath"], tail=tail, since=since, until=until, timestamps=timestamps,
                out=lambda stream, data: out.append((stream, data)))
    return out


def warnings_of(ctx: Context, cid: str) -> list[str]:
    return list(_berth(store.load(ctx, cid)).get("warnings") or [])
