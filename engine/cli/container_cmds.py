"""Container verbs: docker's flags mapped onto Docker Engine API bodies and engine.containers.api."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from engine.cli.common import Globals, add_format, emit_json, emit_rows, emit_table, parser
from engine.errors import BerthError, InvalidArgument, NotFound


# ----------------------------------------------------------------------------- run/create flags
def _create_parser(verb: str, usage: str) -> argparse.ArgumentParser:
    """docker's run/create use -h for --hostname, so --help has no short form here."""
    p = argparse.ArgumentParser(prog=f"berth {verb}", usage=usage, add_help=False)
    p.add_argument("--help", action="help", help="show this help message and exit")
    return p


def _add_create_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--name")
    a("-e", "--env", action="append", default=[])
    a("--env-file", action="append", default=[])
    a("-l", "--label", action="append", default=[])
    a("-u", "--user")
    a("-w", "--workdir")
    a("-h", "--hostname")
    a("--domainname")
    a("--entrypoint")
    a("-p", "--publish", action="append", default=[])
    a("-P", "--publish-all", action="store_true")
    a("--expose", action="append", default=[])
    a("-v", "--volume", action="append", default=[])
    a("--mount", action="append", default=[])
    a("--tmpfs", action="append", default=[])
    a("--volumes-from", action="append", default=[])
    a("--network", "--net", dest="network", action="append", default=[])
    a("--network-alias", action="append", default=[])
    a("--ip")
    a("--mac-address")
    a("--dns", action="append", default=[])
    a("--dns-search", action="append", default=[])
    a("--dns-option", action="append", default=[])
    a("--add-host", action="append", default=[])
    a("--restart")
    a("-m", "--memory")
    a("--memory-swap")
    a("--memory-reservation")
    a("--cpus")
    a("-c", "--cpu-shares", type=int)
    a("--cpu-period", type=int)
    a("--cpu-quota", type=int)
    a("--cpuset-cpus")
    a("--cpuset-mems")
    a("--pids-limit", type=int)
    a("--blkio-weight", type=int)
    a("--ulimit", action="append", default=[])
    a("--sysctl", action="append", default=[])
    a("--cap-add", action="append", default=[])
    a("--cap-drop", action="append", default=[])
    a("--privileged", action="store_true")
    a("--device", action="append", default=[])
    a("--read-only", action="store_true")
    a("--security-opt", action="append", default=[])
    a("--init", action="store_true")
    a("--pid", help="PID namespace: host, or container:NAME")
    a("--ipc", help="IPC namespace: private (default), shareable, host, none, or container:NAME")
    a("--uts", help="UTS namespace: host")
    a("--cgroup-parent", help="cgroup under which the container's cgroup is made (default /berth)")
    a("--cgroupns", help="cgroup namespace: host or private (default: private on cgroup v2, host on v1)")
    a("--memory-swappiness", type=int, help="memory swappiness (0-100, -1 for the kernel's)")
    a("--oom-kill-disable", action="store_true", help="disable the OOM killer (cgroup v1)")
    a("--device-cgroup-rule", action="append", default=[], help="a device cgroup rule, e.g. 'c 1:3 rwm'")
    for kind in ("read-bps", "write-bps", "read-iops", "write-iops"):
        a(f"--device-{kind}", action="append", default=[], metavar="DEVICE:RATE",
          help=f"limit a block device's {kind.replace('-', ' ')} (e.g. /dev/vda:{'1mb' if 'bps' in kind else '1000'})")
    a("--shm-size")
    a("--health-cmd")
    a("--health-interval")
    a("--health-timeout")
    a("--health-retries", type=int)
    a("--health-start-period")
    a("--no-healthcheck", action="store_true")
    a("--stop-signal")
    a("--stop-timeout", type=int)
    a("--log-driver")
    a("--log-opt", action="append", default=[])
    a("--group-add", action="append", default=[])
    a("--oom-score-adj", type=int)
    a("--platform")
    a("--pull", choices=["missing", "always", "never"], default="missing")
    a("-i", "--interactive", action="store_true")
    a("-t", "--tty", action="store_true")
    a("-q", "--quiet", action="store_true")
    a("image")
    a("command", nargs=argparse.REMAINDER)


def _kv_list(items: list[str], field: str) -> dict[str, str]:
    out = {}
    for it in items:
        k, sep, v = it.partition("=")
        if not k:
            raise InvalidArgument(f"{field}: invalid value {it!r}", field=field)
        out[k] = v
    return out


def _env(a: argparse.Namespace) -> list[str]:
    env: list[str] = []
    for path in a.env_file:
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        env.append(line if "=" in line else f"{line}={os.environ.get(line, '')}")
        except OSError as e:
            raise InvalidArgument(f"env-file: {path}: {e.strerror}", field="env-file") from None
    for e in a.env:
        if "=" not in e:
            if e in os.environ:
                env.append(f"{e}={os.environ[e]}")
            continue
        env.append(e)
    return env


def parse_ports(specs: list[str]) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    exposed: dict[str, Any] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for s in specs:
        proto = "tcp"
        body = s
        if "/" in s:
            body, proto = s.rsplit("/", 1)
        if proto not in ("tcp", "udp", "sctp"):
            raise InvalidArgument(f"publish: invalid protocol in {s!r}", field="publish")
        ip = ""
        if body.startswith("["):
            end = body.index("]")
            ip, body = body[1:end], body[end + 2:]
        parts = body.split(":")
        if len(parts) == 3:
            ip, host, cont = parts
        elif len(parts) == 2:
            host, cont = parts
        elif len(parts) == 1:
            host, cont = "", parts[0]
        else:
            raise InvalidArgument(f"publish: invalid port specification {s!r}", field="publish")

        def rng(x: str, s: str = s) -> list[int]:
            if not x:
                return []
            lo, _, hi = x.partition("-")
            try:
                a, b = int(lo), int(hi or lo)
            except ValueError:
                raise InvalidArgument(f"publish: invalid port {x!r} in {s!r}", field="publish") from None
            if not (0 < a <= b < 65536):
                raise InvalidArgument(f"publish: invalid port range {x!r} in {s!r}", field="publish")
            return list(range(a, b + 1))

        cports, hports = rng(cont), rng(host)
        if not cports:
            raise InvalidArgument(f"publish: no container port in {s!r}", field="publish")
        if hports and len(hports) != len(cports) and len(cports) != 1:  # host range for one port: any of it
            raise InvalidArgument(f"publish: port ranges don't match in {s!r}", field="publish")
        for i, cp in enumerate(cports):
            key = f"{cp}/{proto}"
            exposed[key] = {}
            hp = str(hports[i]) if len(hports) == len(cports) else (f"{hports[0]}-{hports[-1]}" if hports else "")
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": hp})
    return exposed, bindings


def _network_flag(s: str) -> tuple[str, dict[str, Any]]:
    """`--network NAME` or docker's `--network name=NAME,alias=A,ip=IP,mac-address=MAC` -> (name, endpoint)."""
    if "=" not in s:
        return s, {}
    name, ep = "", {}  # type: str, dict[str, Any]
    for part in s.split(","):
        k, sep, v = part.partition("=")
        k = k.strip().lower()
        if not sep or not v:
            raise InvalidArgument(f"network: invalid field {part!r} in {s!r} (expected key=value)", field="network")
        if k == "name":
            name = v
        elif k == "alias":
            ep.setdefault("Aliases", []).append(v)
        elif k == "ip":
            ep["IPAMConfig"] = {"IPv4Address": v}
        elif k == "mac-address":
            ep["MacAddress"] = v
        else:
            raise InvalidArgument(f"network: unsupported key {k!r} in {s!r} (name, alias, ip, mac-address)",
                                  field="network")
    if not name:
        raise InvalidArgument(f"network: no name= in {s!r}", field="network")
    return name, ep


def _mount_flag(s: str) -> dict[str, Any]:
    import csv

    m: dict[str, Any] = {"Type": "volume"}
    for part in next(csv.reader([s])):  # docker reads --mount as CSV: "volume-opt=o=a,b" may be quoted
        k, sep, v = part.partition("=")
        k = k.strip().lower()
        if k == "type":
            m["Type"] = v
        elif k in ("source", "src"):
            m["Source"] = v
        elif k in ("target", "destination", "dst"):
            m["Target"] = v
        elif k in ("readonly", "ro"):
            m["ReadOnly"] = v in ("", "1", "true")
        elif k == "bind-propagation":
            m.setdefault("BindOptions", {})["Propagation"] = v
        elif k == "volume-nocopy":
            m.setdefault("VolumeOptions", {})["NoCopy"] = v in ("", "1", "true")
        elif k == "volume-driver":
            m.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = v
        elif k in ("volume-opt", "volume-label"):
            ok, eq, ov = v.partition("=")
            if not ok or not eq:
                raise InvalidArgument(f"mount: invalid {k} {v!r} in {s!r} (expected key=value)", field="mount")
            vo = m.setdefault("VolumeOptions", {})
            if k == "volume-label":
                vo.setdefault("Labels", {})[ok] = ov
            else:
                vo.setdefault("DriverConfig", {}).setdefault("Options", {})[ok] = ov
        elif k == "tmpfs-size":
            from engine.containers.units import size

            m.setdefault("TmpfsOptions", {})["SizeBytes"] = size(v, "mount")
        elif k == "tmpfs-mode":
            m.setdefault("TmpfsOptions", {})["Mode"] = int(v, 8)
        elif k in ("consistency",):
            continue
        else:
            raise InvalidArgument(f"mount: unexpected key {k!r} in {s!r}", field="mount")
    return m


def body_from_args(a: argparse.Namespace) -> dict[str, Any]:
    from engine.containers.units import duration_ns, size

    hc: dict[str, Any] = {}
    body: dict[str, Any] = {"Image": a.image, "HostConfig": hc}
    if a.command:
        body["Cmd"] = list(a.command)
    if a.entrypoint is not None:
        body["Entrypoint"] = [a.entrypoint] if a.entrypoint else [""]
    env = _env(a)
    if env:
        body["Env"] = env
    if a.label:
        body["Labels"] = _kv_list(a.label, "label")
    for k, v in (("User", a.user), ("WorkingDir", a.workdir), ("Hostname", a.hostname),
                 ("Domainname", a.domainname), ("StopSignal", a.stop_signal), ("StopTimeout", a.stop_timeout)):
        if v is not None:
            body[k] = v
    body["Tty"] = a.tty
    body["OpenStdin"] = a.interactive
    body["AttachStdin"] = a.interactive
    exposed, bindings = parse_ports(a.publish)
    for e in a.expose:
        port, _, proto = e.partition("/")
        exposed[f"{port}/{proto or 'tcp'}"] = {}
    if exposed:
        body["ExposedPorts"] = exposed
    if bindings:
        hc["PortBindings"] = bindings
    if a.publish_all:
        hc["PublishAllPorts"] = True
    if a.volume:
        hc["Binds"] = list(a.volume)
    if a.mount:
        hc["Mounts"] = [_mount_flag(m) for m in a.mount]
    if a.volumes_from:
        hc["VolumesFrom"] = list(a.volumes_from)
    if a.tmpfs:
        hc["Tmpfs"] = {t.split(":", 1)[0]: (t.split(":", 1)[1] if ":" in t else "") for t in a.tmpfs}
    nets = [_network_flag(x) for x in a.network]
    if nets:
        hc["NetworkMode"] = nets[0][0]
    ecfg: dict[str, dict[str, Any]] = {}
    if not nets and (a.network_alias or a.ip or a.mac_address):
        nets = [("bridge", {})]
    for i, (name, ep) in enumerate(nets):
        if name in ecfg:
            raise InvalidArgument(f"network: {name!r} given more than once", field="network")
        if i == 0:  # the single-network flags apply to the first network, as in docker
            if a.network_alias:
                ep["Aliases"] = [*ep.get("Aliases", []), *a.network_alias]
            if a.ip:
                ep["IPAMConfig"] = {"IPv4Address": a.ip}
            if a.mac_address:
                ep["MacAddress"] = a.mac_address
        if ep or len(nets) > 1:
            ecfg[name] = ep
    if ecfg:
        body["NetworkingConfig"] = {"EndpointsConfig": ecfg}
    for k, v in (("Dns", a.dns), ("DnsSearch", a.dns_search), ("DnsOptions", a.dns_option),
                 ("ExtraHosts", a.add_host), ("CapAdd", a.cap_add), ("CapDrop", a.cap_drop),
                 ("SecurityOpt", a.security_opt), ("GroupAdd", a.group_add)):
        if v:
            hc[k] = list(v)
    if a.restart:
        name, _, count = a.restart.partition(":")
        try:
            hc["RestartPolicy"] = {"Name": name, "MaximumRetryCount": int(count) if count else 0}
        except ValueError:
            raise InvalidArgument(f"restart: invalid restart policy {a.restart!r}", field="restart") from None
    if a.memory:
        hc["Memory"] = size(a.memory, "memory")
    if a.memory_swap:
        hc["MemorySwap"] = -1 if a.memory_swap == "-1" else size(a.memory_swap, "memory-swap")
    if a.memory_reservation:
        hc["MemoryReservation"] = size(a.memory_reservation, "memory-reservation")
    if a.cpus:
        try:
            hc["NanoCpus"] = int(float(a.cpus) * 1e9)
        except ValueError:
            raise InvalidArgument(f"cpus: invalid value {a.cpus!r}", field="cpus") from None
    for k, v in (("CpuShares", a.cpu_shares), ("CpuPeriod", a.cpu_period), ("CpuQuota", a.cpu_quota),
                 ("CpusetCpus", a.cpuset_cpus), ("CpusetMems", a.cpuset_mems), ("PidsLimit", a.pids_limit),
                 ("BlkioWeight", a.blkio_weight), ("OomScoreAdj", a.oom_score_adj)):
        if v is not None:
            hc[k] = v
    if a.ulimit:
        ul = []
        for u in a.ulimit:
            name, _, lim = u.partition("=")
            soft, _, hard = lim.partition(":")
            try:
                ul.append({"Name": name, "Soft": int(soft), "Hard": int(hard or soft)})
            except ValueError:
                raise InvalidArgument(f"ulimit: invalid value {u!r}", field="ulimit") from None
        hc["Ulimits"] = ul
    if a.sysctl:
        hc["Sysctls"] = _kv_list(a.sysctl, "sysctl")
    if a.privileged:
        hc["Privileged"] = True
    if a.device:
        hc["Devices"] = []
        for d in a.device:
            parts = d.split(":")
            host = parts[0]
            dest = parts[1] if len(parts) > 1 and not set(parts[1]) <= set("rwm") else host
            perms = parts[-1] if len(parts) > 1 and set(parts[-1]) <= set("rwm") else "rwm"
            hc["Devices"].append({"PathOnHost": host, "PathInContainer": dest, "CgroupPermissions": perms})
    if a.read_only:
        hc["ReadonlyRootfs"] = True
    if a.init:
        hc["Init"] = True
    if a.memory_swappiness is not None:
        hc["MemorySwappiness"] = a.memory_swappiness
    if a.oom_kill_disable:
        hc["OomKillDisable"] = True
    if a.device_cgroup_rule:
        hc["DeviceCgroupRules"] = a.device_cgroup_rule
    for kind, key in (("read_bps", "BlkioDeviceReadBps"), ("write_bps", "BlkioDeviceWriteBps"),
                      ("read_iops", "BlkioDeviceReadIOps"), ("write_iops", "BlkioDeviceWriteIOps")):
        for v in getattr(a, f"device_{kind}"):
            path, sep, rate = v.rpartition(":")
            if not sep or not path:
                raise InvalidArgument(f"device-{kind.replace('_', '-')}: invalid value {v!r} (expected DEVICE:RATE)",
                                      field=key)
            try:
                n = size(rate, key) if kind.endswith("bps") else int(rate)
            except ValueError:
                raise InvalidArgument(f"device-{kind.replace('_', '-')}: invalid rate {rate!r} in {v!r}",
                                      field=key) from None
            hc.setdefault(key, []).append({"Path": path, "Rate": n})
    for opt, key in (("pid", "PidMode"), ("ipc", "IpcMode"), ("uts", "UTSMode"), ("cgroupns", "CgroupnsMode"),
                     ("cgroup_parent", "CgroupParent")):
        if getattr(a, opt) is not None:
            hc[key] = getattr(a, opt)
    if a.shm_size:
        hc["ShmSize"] = size(a.shm_size, "shm-size")
    if a.log_driver or a.log_opt:
        hc["LogConfig"] = {"Type": a.log_driver or "json-file", "Config": _kv_list(a.log_opt, "log-opt")}
    if a.no_healthcheck:
        body["Healthcheck"] = {"Test": ["NONE"]}
    elif any(x is not None for x in (a.health_cmd, a.health_interval, a.health_timeout, a.health_retries,
                                     a.health_start_period)):
        h: dict[str, Any] = {}
        if a.health_cmd:
            h["Test"] = ["CMD-SHELL", a.health_cmd]
        if a.health_interval:
            h["Interval"] = duration_ns(a.health_interval, "health-interval")
        if a.health_timeout:
            h["Timeout"] = duration_ns(a.health_timeout, "health-timeout")
        if a.health_start_period:
            h["StartPeriod"] = duration_ns(a.health_start_period, "health-start-period")
        if a.health_retries is not None:
            h["Retries"] = a.health_retries
        body["Healthcheck"] = h
    return body


def _ensure_image(g: Globals, ref: str, pull: str) -> None:
    if pull == "never":
        return
    from engine.containers import deps

    if pull == "missing":
        try:
            deps.resolve_image(g.ctx, ref)
            return
        except NotFound:
            pass
    from engine.images import api as iapi

    print(f"Unable to find image '{ref}' locally", file=sys.stderr) if pull == "missing" else None
    iapi.pull(g.ctx, ref, quiet=not sys.stderr.isatty())


def _create(g: Globals, a: argparse.Namespace) -> str:
    from engine.containers import api

    body = body_from_args(a)
    _ensure_image(g, a.image, a.pull)
    warnings: list[str] = []
    cid = api.create(g.ctx, a.name, body, warnings)
    return cid


# ----------------------------------------------------------------------------- verbs
def cmd_create(verb: str, argv: list[str], g: Globals) -> int:
    p = _create_parser("create", "berth create [OPTIONS] IMAGE [COMMAND] [ARG...]")
    _add_create_flags(p)
    a = p.parse_args(argv)
    print(_create(g, a))
    return 0


def cmd_run(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api, runtime

    p = _create_parser("run", "berth run [OPTIONS] IMAGE [COMMAND] [ARG...]")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("--rm", action="store_true")
    p.add_argument("--sig-proxy", default="true")
    _add_create_flags(p)
    a = p.parse_args(argv)
    if a.rm:
        a.restart = a.restart or None
    body = body_from_args(a)
    if a.rm:
        body["HostConfig"]["AutoRemove"] = True
    _ensure_image(g, a.image, a.pull)
    ctx = g.ctx
    cid = api.create(ctx, a.name, body)
    if a.detach:
        try:
            api.start(ctx, cid)
        except BaseException as e:
            _remove_quietly(g, cid)
            _run_exit_code(e)
            raise
        for w in api.warnings_of(ctx, cid):
            print(f"WARNING: {w}", file=sys.stderr)
        print(cid)
        return 0

    from engine.containers import attach as att

    def do_attach(c: str) -> Any:
        return att.connect(runtime.attach_socket(ctx, c))

    try:
        _cid, sock = api.start_attached(ctx, cid, do_attach, client_finalizes=a.rm)
    except BaseException as e:
        _remove_quietly(g, cid)
        _run_exit_code(e)
        raise
    for w in api.warnings_of(ctx, cid):
        print(f"WARNING: {w}", file=sys.stderr)
    run = api.current_run(ctx, cid)
    _proxy_signals(g, cid, a.sig_proxy != "false" and not a.tty)
    try:
        att.pump(sock, stdin=a.interactive, tty=a.tty)
    finally:
        sock.close()
    rec = api.store.load(ctx, cid)
    api._wait_exit(ctx, cid, int(rec.get("_berth", {}).get("conmon_pid") or 0), 30)
    code = runtime.read_exit(ctx, cid)
    if a.rm:
        # remove records the end of the run too; the monitor ends by itself once its exit
        # command finds no record, so do not wait for it
        _remove_quietly(g, cid, wait_monitor=False, background=True)
    else:
        api.finalize(ctx, cid, run)
    return 125 if code is None else code


def _run_exit_code(e: BaseException) -> None:
    """Docker's `run` exit codes for a command that could not be started: 127 when it does not
    exist, 126 when it cannot be invoked (other failures keep Berth's 1/2/3)."""
    if isinstance(e, BerthError) and e.field == "Cmd" and "failed to start the container process" in e.message:
        msg = e.message.lower()
        if "executable file not found" in msg or "no such file or directory" in msg:
            e.exit_code = 127
        elif "permission denied" in msg or "exec format error" in msg:
            e.exit_code = 126


def _proxy_signals(g: Globals, cid: str, enabled: bool) -> None:
    if not enabled:
        return
    import signal

    from engine.containers import runtime

    def handler(signum: int, _frame: Any) -> None:
        runtime.kill(g.ctx, cid, signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, handler)


def _remove_quietly(g: Globals, cid: str, wait_monitor: bool = True, background: bool = False) -> None:
    from engine.containers import api

    try:
        api.remove(g.ctx, cid, force=True, volumes=True, wait_monitor=wait_monitor, background=background)
    except BerthError:
        pass


def _each(verb: str, names: list[str], fn: Any) -> int:
    """Apply fn to each container (a few at a time: each mostly waits on runc and its monitor),
    printing names in the order given, like docker."""

    def one(n: str) -> str | None:
        try:
            fn(n)
            return None
        except BerthError as e:
            return e.message
        except Exception as e:  # one container's failure never stops the others
            return f"{n}: {type(e).__name__}: {e}"

    if len(names) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
            errors = list(pool.map(one, names))
    else:
        errors = [one(n) for n in names]
    rc = 0
    for n, err in zip(names, errors, strict=True):
        if err is None:
            print(n)
        else:
            print(f"Error response from daemon: {err}", file=sys.stderr)
            rc = 1
    return rc


def cmd_simple(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser(verb)
    if verb in ("stop", "restart"):
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int)
        p.add_argument("-s", "--signal")
    if verb == "kill":
        p.add_argument("-s", "--signal", default="KILL")
    if verb == "rm":
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("-v", "--volumes", action="store_true")
    if verb == "start":
        p.add_argument("-a", "--attach", action="store_true")
        p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    ctx = g.ctx
    fns = {
        "start": lambda n: _start_and_warn(ctx, n),
        "stop": lambda n: api.stop(ctx, n, a.time, a.signal),
        "restart": lambda n: api.restart(ctx, n, a.time),
        "kill": lambda n: api.kill(ctx, n, a.signal),
        "pause": lambda n: api.pause(ctx, n),
        "unpause": lambda n: api.unpause(ctx, n),
        "rm": lambda n: api.remove(ctx, n, a.force, a.volumes),
    }
    if verb == "start" and a.attach:
        if len(a.containers) != 1:
            raise InvalidArgument("start: you cannot start and attach multiple containers at once",
                                  field="attach")
        return _start_attached(g, a.containers[0], a.interactive)
    return _each(verb, a.containers, fns[verb])


def _start_and_warn(ctx: Any, ref: str) -> None:
    from engine.containers import api

    cid = api.start(ctx, ref)
    for w in api.warnings_of(ctx, cid):
        print(f"WARNING: {w}", file=sys.stderr)


def _start_attached(g: Globals, ref: str, interactive: bool) -> int:
    from engine.containers import api, runtime
    from engine.containers import attach as att

    ctx = g.ctx
    cid, sock = api.start_attached(ctx, ref, lambda c: att.connect(runtime.attach_socket(ctx, c)))
    if sock is None:
        return 0
    run = api.current_run(ctx, cid)
    try:
        att.pump(sock, stdin=interactive, tty=False)
    finally:
        sock.close()
    rec = api.store.load(ctx, cid)
    api._wait_exit(ctx, cid, int(rec.get("_berth", {}).get("conmon_pid") or 0), 30)
    code = runtime.read_exit(ctx, cid)
    api.finalize(ctx, cid, run)
    return 125 if code is None else code


def cmd_wait(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser("wait")
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    rc = 0
    for n in a.containers:
        try:
            print(api.wait(g.ctx, n), flush=True)
        except BerthError as e:
            print(f"Error response from daemon: {e.message}", file=sys.stderr)
            rc = 1
    return rc


def cmd_rename(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser("rename")
    p.add_argument("container")
    p.add_argument("new_name")
    a = p.parse_args(argv)
    api.rename(g.ctx, a.container, a.new_name)
    return 0


def cmd_update(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api
    from engine.containers.units import size

    p = parser("update")
    p.add_argument("-m", "--memory")
    p.add_argument("--memory-swap")
    p.add_argument("--memory-reservation")
    p.add_argument("--cpus")
    p.add_argument("-c", "--cpu-shares", type=int)
    p.add_argument("--cpu-period", type=int)
    p.add_argument("--cpu-quota", type=int)
    p.add_argument("--cpuset-cpus")
    p.add_argument("--cpuset-mems")
    p.add_argument("--pids-limit", type=int)
    p.add_argument("--blkio-weight", type=int)
    p.add_argument("--restart")
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    ch: dict[str, Any] = {}
    if a.memory:
        ch["Memory"] = size(a.memory, "memory")
    if a.memory_swap:
        ch["MemorySwap"] = -1 if a.memory_swap == "-1" else size(a.memory_swap, "memory-swap")
    if a.memory_reservation:
        ch["MemoryReservation"] = size(a.memory_reservation, "memory-reservation")
    if a.cpus:
        ch["NanoCpus"] = int(float(a.cpus) * 1e9)
    for k, v in (("CpuShares", a.cpu_shares), ("CpuPeriod", a.cpu_period), ("CpuQuota", a.cpu_quota),
                 ("CpusetCpus", a.cpuset_cpus), ("CpusetMems", a.cpuset_mems), ("PidsLimit", a.pids_limit),
                 ("BlkioWeight", a.blkio_weight)):
        if v is not None:
            ch[k] = v
    if a.restart:
        name, _, count = a.restart.partition(":")
        ch["RestartPolicy"] = {"Name": name, "MaximumRetryCount": int(count) if count else 0}
    def one(n: str) -> None:
        for w in api.update(g.ctx, n, ch):
            print(f"WARNING: {w}", file=sys.stderr)

    return _each("update", a.containers, one)


# ----------------------------------------------------------------------------- ps / inspect
def _status_text(st: dict[str, Any]) -> str:
    from engine.containers import store
    from engine.containers.units import human_duration

    now = time.time()
    if st.get("Restarting"):
        return f"Restarting ({st['ExitCode']}) {human_duration(now - store.parse_time(st['FinishedAt']))} ago"
    if st.get("Running"):
        s = f"Up {human_duration(now - store.parse_time(st['StartedAt']))}"
        if st.get("Paused"):
            s += " (Paused)"
        h = (st.get("Health") or {}).get("Status")
        if h:
            s += f" (health: {h})" if h == "starting" else f" ({h})"
        return s
    if st.get("Status") == "created":
        return "Created"
    return f"Exited ({st['ExitCode']}) {human_duration(now - store.parse_time(st['FinishedAt']))} ago"


def _ports_text(ns: dict[str, Any]) -> str:
    out = []
    for key, binds in sorted((ns.get("Ports") or {}).items()):
        if not binds:
            out.append(key)
            continue
        for b in binds:
            out.append(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}->{key}")
    return ", ".join(out)


_STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def _match(rec: dict[str, Any], filters: list[str], ctx: Any = None) -> bool:
    groups: dict[str, list[str]] = {}
    for f in filters:
        k, sep, v = f.partition("=")
        if not sep:
            raise InvalidArgument(f"filter: bad format of filter (expected name=value): {f!r}", field="filter")
        if k not in ("name", "label", "status", "ancestor", "id", "exited", "health"):
            raise InvalidArgument(f"filter: invalid filter {k!r}", field="filter")
        if k == "status" and v not in _STATUSES:
            raise InvalidArgument(f"filter: invalid filter 'status={v}' (one of {', '.join(_STATUSES)})",
                                  field="filter")
        if k == "health" and v not in ("starting", "healthy", "unhealthy", "none"):
            raise InvalidArgument(f"filter: invalid filter 'health={v}'", field="filter")
        groups.setdefault(k, []).append(v)
    import re

    for k, vals in groups.items():
        ok = False
        for v in vals:
            if k == "name":
                ok = bool(re.search(v, rec["Name"].lstrip("/")))
            elif k == "id":
                ok = rec["Id"].startswith(v)
            elif k == "status":
                ok = rec["State"]["Status"] == v
            elif k == "exited":
                ok = not rec["State"]["Running"] and rec["State"]["Status"] == "exited" and \
                    str(rec["State"]["ExitCode"]) == v
            elif k == "health":
                ok = (rec["State"].get("Health") or {}).get("Status", "none") == v
            elif k == "label":
                lk, sep, lv = v.partition("=")
                labels = rec["Config"].get("Labels") or {}
                ok = lk in labels and (not sep or labels[lk] == lv)
            elif k == "ancestor":
                img = rec["Config"].get("Image", "")
                ok = img == v or (":" not in v and img.split(":")[0] == v) or \
                    rec["Image"].split(":", 1)[-1].startswith(v.split(":", 1)[-1])
                if not ok and ctx is not None:
                    from engine.containers import deps

                    try:
                        ok = deps.resolve_image(ctx, v).id == rec["Image"]
                    except BerthError:
                        ok = False
            if ok:
                break
        if not ok:
            return False
    return True


def cmd_ps(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser("ps")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-n", "--last", type=int, default=-1)
    p.add_argument("-l", "--latest", action="store_true")
    add_format(p)
    a = p.parse_args(argv)
    recs = api.list_all(g.ctx)
    recs = [r for r in recs if (a.all or r["State"]["Running"] or a.last > 0 or a.latest) and _match(r, a.filter, g.ctx)]
    if a.latest:
        recs = recs[:1]
    elif a.last > 0:
        recs = recs[: a.last]
    if a.quiet:
        for r in recs:
            print(r["Id"] if a.no_trunc else r["Id"][:12])
        return 0
    if a.format == "json":
        emit_json(recs)
        return 0
    if a.format and a.format != "table":
        return _ps_template(a.format, recs, a.no_trunc)
    rows = []
    for r in recs:
        cmd = " ".join([r["Path"], *r["Args"]])
        cmd = json.dumps(cmd if a.no_trunc or len(cmd) <= 20 else cmd[:19] + "…", ensure_ascii=False)
        rows.append([r["Id"] if a.no_trunc else r["Id"][:12], r["Config"].get("Image"), cmd,
                     _created_text(r["Created"]), _status_text(r["State"]), _ports_text(r["NetworkSettings"]),
                     r["Name"].lstrip("/")])
    emit_table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], rows)
    return 0


def _ps_fields(r: dict[str, Any], no_trunc: bool) -> dict[str, str]:
    cmd = " ".join([r["Path"], *r["Args"]])
    return {"ID": r["Id"] if no_trunc else r["Id"][:12], "Image": r["Config"].get("Image", ""),
            "Command": json.dumps(cmd, ensure_ascii=False), "CreatedAt": r["Created"],
            "RunningFor": _created_text(r["Created"]), "Ports": _ports_text(r["NetworkSettings"]),
            "State": r["State"]["Status"], "Status": _status_text(r["State"]), "Names": r["Name"].lstrip("/"),
            "Labels": ",".join(f"{k}={v}" for k, v in sorted((r["Config"].get("Labels") or {}).items())),
            "Mounts": ",".join(m.get("Name") or m.get("Source", "") for m in r.get("Mounts") or []),
            "Networks": ",".join(sorted((r["NetworkSettings"].get("Networks") or {}).keys()))}


# `ps --format 'table ...'` column names, as docker prints them
PS_COLUMNS = [("ID", "CONTAINER ID"), ("Image", "IMAGE"), ("Command", "COMMAND"), ("CreatedAt", "CREATED AT"),
              ("RunningFor", "CREATED"), ("Ports", "PORTS"), ("State", "STATE"), ("Status", "STATUS"),
              ("Names", "NAMES"), ("Labels", "LABELS"), ("Mounts", "MOUNTS"), ("Networks", "NETWORKS")]


def _ps_template(fmt: str, recs: list[dict[str, Any]], no_trunc: bool) -> int:
    """docker ps --format with a Go template; `{{.Label "k"}}` is a method of the row, as in docker."""
    rows = []
    for r in recs:
        row: dict[str, Any] = _ps_fields(r, no_trunc)
        labels = r["Config"].get("Labels") or {}
        row["Label"] = lambda k, labels=labels: str(labels.get(k, ""))
        rows.append(row)
    emit_rows(fmt, rows, PS_COLUMNS, len(PS_COLUMNS))
    return 0


def _created_text(created: str) -> str:
    from engine.containers import store
    from engine.containers.units import human_duration

    return human_duration(time.time() - store.parse_time(created)) + " ago"


def cmd_container(verb: str, argv: list[str], g: Globals) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: berth container {ls,ps,inspect,rm,prune,create,run,start,stop,kill,restart,pause,unpause,"
              "wait,rename,update,logs,exec,top,stats,cp,diff,commit,export,port}")
        return 0 if argv else 2
    sub, rest = argv[0], argv[1:]
    if sub in ("ls", "list", "ps"):
        return cmd_ps("ps", rest, g)
    if sub == "inspect":
        from engine.cli import inspect_cmds

        return inspect_cmds.run("inspect", ["--type", "container", *rest], g)
    if sub == "prune":
        return cmd_prune(rest, g)
    if sub in DISPATCH:
        return DISPATCH[sub](sub, rest, g)
    raise InvalidArgument(f"container: unknown subcommand {sub!r}", field="container")


def cmd_prune(argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser("container prune")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    a = p.parse_args(argv)
    gone = []
    for r in api.list_all(g.ctx):
        if not r["State"]["Running"] and _match(r, [f for f in a.filter if not f.startswith("until")]):
            try:
                api.remove(g.ctx, r["Id"])
                gone.append(r["Id"])
            except BerthError:
                continue
    print("Deleted Containers:")
    for cid in gone:
        print(cid)
    return 0


# ----------------------------------------------------------------------------- logs / exec / top / stats
def cmd_logs(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api, logs, store

    p = parser("logs")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("-n", "--tail", default="all")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("--details", action="store_true")
    p.add_argument("container")
    a = p.parse_args(argv)
    ctx = g.ctx
    cid = store.resolve_id(ctx, a.container)
    rec = store.load(ctx, cid)
    tail = None
    if a.tail != "all":
        try:
            tail = int(a.tail)
        except ValueError:
            raise InvalidArgument(f"tail: invalid value {a.tail!r}", field="tail") from None
        if tail < 0:
            tail = None

    def running() -> bool:
        try:
            r = store.load(ctx, cid)
        except NotFound:
            return False
        return api.live_running(ctx, r) or bool(r["State"].get("Restarting"))

    logs.read(rec["LogPath"], tail=tail, since=logs.parse_since(a.since, "since"),
              until=logs.parse_since(a.until, "until"), timestamps=a.timestamps, follow=a.follow,
              still_running=running)
    return 0


def cmd_exec(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import execs

    p = parser("exec", usage="berth exec [OPTIONS] CONTAINER COMMAND [ARG...]")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("--env-file", action="append", default=[])
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("-u", "--user")
    p.add_argument("-w", "--workdir")
    p.add_argument("--privileged", action="store_true")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    if not a.command:
        raise InvalidArgument("exec: requires at least 2 arguments (CONTAINER COMMAND)", field="command")
    env = [e for e in a.env if "=" in e] + [f"{e}={os.environ[e]}" for e in a.env if "=" not in e and e in os.environ]
    code, _o, _e = execs.exec_run(g.ctx, a.container, a.command, env=env, user=a.user, workdir=a.workdir,
                                  tty=a.tty, interactive=a.interactive, detach=a.detach, privileged=a.privileged)
    return code


def cmd_top(verb: str, argv: list[str], g: Globals) -> int:
    import subprocess

    from engine.containers import api, runtime, store

    p = parser("top")
    p.add_argument("container")
    p.add_argument("ps_args", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    ctx = g.ctx
    cid = store.resolve_id(ctx, a.container)
    rec = store.load(ctx, cid)
    if not api.live_running(ctx, rec):
        raise InvalidArgument(f"Container {cid} is not running", field="container")
    r = runtime.runc(ctx, "ps", "--format", "json", cid)
    pids = set(json.loads(r.stdout or "[]") or [])
    ps_args = a.ps_args or ["-ef"]
    out = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=False).stdout.splitlines()
    if not out:
        return 1
    header = out[0].split()
    try:
        pid_col = header.index("PID")
    except ValueError:
        raise InvalidArgument("top: ps output has no PID column", field="ps_args") from None
    print(out[0])
    for line in out[1:]:
        fields = line.split()
        if len(fields) > pid_col and fields[pid_col].isdigit() and int(fields[pid_col]) in pids:
            print(line)
    return 0


def _stats_of(ctx: Any, cid: str) -> dict[str, Any] | None:
    from engine.containers import runtime

    r = runtime.runc(ctx, "events", "--stats", cid, check=False)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout).get("data") or {}
    except ValueError:
        return None


def cmd_stats(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api
    from engine.containers.units import human_size

    p = parser("stats")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("--no-stream", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    add_format(p)
    p.add_argument("containers", nargs="*")
    a = p.parse_args(argv)
    ctx = g.ctx
    if a.containers:
        recs = [api.inspect(ctx, c) for c in a.containers]
    else:
        recs = [r for r in api.list_all(ctx) if a.all or r["State"]["Running"]]
    while True:
        first = {r["Id"]: (_stats_of(ctx, r["Id"]) if r["State"]["Running"] else None, time.monotonic())
                 for r in recs}
        time.sleep(0.5)
        rows, docs = [], []
        ncpu = os.cpu_count() or 1
        for r in recs:
            s0, t0 = first[r["Id"]]
            s1 = _stats_of(ctx, r["Id"]) if r["State"]["Running"] else None
            cpu = mem = limit = 0.0
            pids = 0
            if s0 and s1:
                du = (s1.get("cpu", {}).get("usage", {}).get("total", 0) -
                      s0.get("cpu", {}).get("usage", {}).get("total", 0))
                cpu = du / ((time.monotonic() - t0) * 1e9) * 100.0
                m = s1.get("memory", {}).get("usage", {})
                mem = float(m.get("usage", 0))
                limit = float(m.get("limit", 0))
                total_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                if not limit or limit > total_mem:
                    limit = float(total_mem)
                pids = int(s1.get("pids", {}).get("current", 0))
            doc = {"ID": r["Id"] if a.no_trunc else r["Id"][:12], "Name": r["Name"].lstrip("/"),
                   "CPUPerc": f"{cpu:.2f}%", "MemUsage": f"{human_size(mem)} / {human_size(limit)}",
                   "MemPerc": f"{(mem / limit * 100) if limit else 0:.2f}%", "NetIO": "--", "BlockIO": "--",
                   "PIDs": str(pids), "CPUCount": ncpu}
            docs.append(doc)
            rows.append([doc["ID"], doc["Name"], doc["CPUPerc"], doc["MemUsage"], doc["MemPerc"], doc["NetIO"],
                         doc["BlockIO"], doc["PIDs"]])
        if a.format == "json":
            emit_json(docs)
        else:
            emit_table(["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O",
                        "PIDS"], rows)
        if a.no_stream:
            return 0
        sys.stdout.flush()


def cmd_port(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser("port")
    p.add_argument("container")
    p.add_argument("private_port", nargs="?")
    a = p.parse_args(argv)
    rec = api.inspect(g.ctx, a.container)
    ports = rec["NetworkSettings"].get("Ports") or {}
    want = None
    if a.private_port:
        want = a.private_port if "/" in a.private_port else a.private_port + "/tcp"
        if want not in ports:
            raise NotFound(f"No public port '{want}' published for {a.container}", field="private_port")
    for key, binds in sorted(ports.items()):
        if want and key != want:
            continue
        for b in binds or []:
            hp = f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}"
            print(hp if want else f"{key} -> {hp}")
    return 0


# ----------------------------------------------------------------------------- filesystem verbs
def cmd_fs(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import fsops

    if verb == "cp":
        p = parser("cp", usage="berth cp CONTAINER:SRC_PATH DEST_PATH|-  or  berth cp SRC_PATH|- CONTAINER:DEST_PATH")
        p.add_argument("-a", "--archive", action="store_true")
        p.add_argument("-L", "--follow-link", action="store_true")
        p.add_argument("src")
        p.add_argument("dst")
        a = p.parse_args(argv)
        fsops.cp(g.ctx, a.src, a.dst, follow=a.follow_link)
        return 0
    if verb == "diff":
        p = parser("diff")
        p.add_argument("container")
        a = p.parse_args(argv)
        for kind, path in fsops.diff(g.ctx, a.container):
            print(f"{kind} {path}")
        return 0
    if verb == "export":
        p = parser("export")
        p.add_argument("-o", "--output")
        p.add_argument("container")
        a = p.parse_args(argv)
        if not a.output and sys.stdout.isatty():
            raise InvalidArgument("export: cowardly refusing to write a tar archive to a terminal; use -o",
                                  field="output")
        fsops.export(g.ctx, a.container, a.output)
        return 0
    if verb == "commit":
        p = parser("commit", usage="berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]")
        p.add_argument("-a", "--author", default="")
        p.add_argument("-m", "--message", default="")
        p.add_argument("-c", "--change", action="append", default=[])
        p.add_argument("-p", "--pause", default="true")
        p.add_argument("container")
        p.add_argument("repository", nargs="?")
        a = p.parse_args(argv)
        print(fsops.commit(g.ctx, a.container, a.repository, author=a.author, message=a.message,
                           changes=a.change, pause=a.pause != "false"))
        return 0
    raise InvalidArgument(f"unknown verb {verb}", field="verb")


# ----------------------------------------------------------------------------- internal verbs
def cmd_restore(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    p = parser("restore", "Bring back containers after a reboot (run at boot)")
    p.parse_args(argv)
    for name in api.restore(g.ctx):
        print(name)
    return 0


def cmd_conmon_exit(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import api

    if len(argv) < 2:
        return 2
    try:
        api.on_exit(g.ctx, argv[0], int(argv[1]))
    except BerthError as e:
        print(f"_conmon-exit {argv[0]}: {e.message}", file=sys.stderr)
        return 1
    return 0


def cmd_health(verb: str, argv: list[str], g: Globals) -> int:
    from engine.containers import health

    if len(argv) < 2:
        return 2
    return health.loop(g.ctx, argv[0], int(argv[1]))


DISPATCH = {
    "create": cmd_create, "run": cmd_run,
    "start": cmd_simple, "stop": cmd_simple, "kill": cmd_simple, "restart": cmd_simple, "pause": cmd_simple,
    "unpause": cmd_simple, "rm": cmd_simple, "wait": cmd_wait, "rename": cmd_rename, "update": cmd_update,
    "ps": cmd_ps, "container": cmd_container, "logs": cmd_logs, "exec": cmd_exec, "top": cmd_top,
    "stats": cmd_stats, "port": cmd_port, "cp": cmd_fs, "diff": cmd_fs, "export": cmd_fs, "commit": cmd_fs,
    "restore": cmd_restore, "_conmon-exit": cmd_conmon_exit, "_health": cmd_health,
}


def run(verb: str, argv: list[str], g: Globals) -> int:
    return DISPATCH[verb](verb, argv, g)
