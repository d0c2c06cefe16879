"""From a create body (Docker Engine API `POST /containers/create`) and an image config to a
container record's `Config`, `HostConfig`, `Path`/`Args` and `Mounts`, validating every field.
Pure functions: no I/O besides stat() of bind sources."""

from __future__ import annotations

import os
import re
import signal
from typing import Any

from engine.errors import InvalidArgument

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
VOLUME_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")
_PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")

# create-body keys this engine understands (others are an error, so typos show up)
CONFIG_KEYS = {
    "Image", "Cmd", "Entrypoint", "Env", "Labels", "User", "WorkingDir", "Hostname", "Domainname",
    "ExposedPorts", "Healthcheck", "StopSignal", "StopTimeout", "Tty", "OpenStdin", "StdinOnce",
    "AttachStdin", "AttachStdout", "AttachStderr", "Volumes", "HostConfig", "NetworkingConfig",
    "MacAddress", "ArgsEscaped", "OnBuild", "NetworkDisabled", "Shell",
}
HOSTCONFIG_KEYS = {
    "Binds", "Mounts", "Tmpfs", "PortBindings", "PublishAllPorts", "RestartPolicy", "AutoRemove",
    "NetworkMode", "Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuPeriod",
    "CpuQuota", "CpusetCpus", "CpusetMems", "PidsLimit", "BlkioWeight", "Ulimits", "Sysctls", "CapAdd",
    "CapDrop", "Privileged", "Devices", "ReadonlyRootfs", "SecurityOpt", "Init", "ShmSize", "ExtraHosts",
    "Dns", "DnsSearch", "DnsOptions", "LogConfig", "VolumesFrom", "GroupAdd", "OomScoreAdj",
    "OomKillDisable", "Links", "IpcMode", "PidMode", "UTSMode", "UsernsMode", "CgroupParent",
    "MemorySwappiness", "KernelMemory", "ConsoleSize", "Isolation", "Runtime", "Annotations",
    "CgroupnsMode", "DeviceCgroupRules", "StorageOpt", "ReadonlyPaths", "MaskedPaths", "Cgroup",
    "ContainerIDFile", "LogPath", "VolumeDriver", "DeviceRequests", "BlkioWeightDevice",
    "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps",
    "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpuCount", "CpuPercent", "IOMaximumIOps",
    "IOMaximumBandwidth",
}
_INT_FIELDS = ("Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuPeriod", "CpuQuota",
               "PidsLimit", "BlkioWeight", "ShmSize", "OomScoreAdj", "MemorySwappiness")


def validate_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise InvalidArgument(f"name: invalid container name {name!r}, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                              field="name")
    return name.lstrip("/")


def parse_signal(sig: str | int, field: str = "StopSignal") -> int:
    s = str(sig).strip().upper()
    if s.isdigit():
        n = int(s)
        if 0 < n < 65:
            return n
    else:
        if not s.startswith("SIG"):
            s = "SIG" + s
        if s.startswith("SIGRTMIN+") and s[9:].isdigit():
            return int(signal.SIGRTMIN) + int(s[9:])
        try:
            return int(signal.Signals[s])
        except KeyError:
            pass
    raise InvalidArgument(f"{field}: invalid signal {sig!r}", field=field)


def restart_policy(rp: dict[str, Any] | None) -> dict[str, Any]:
    rp = dict(rp or {})
    name = rp.get("Name") or "no"
    if name not in RESTART_NAMES:
        raise InvalidArgument(f"RestartPolicy: invalid restart policy {name!r} "
                              f"(use one of {', '.join(RESTART_NAMES)})", field="RestartPolicy")
    count = int(rp.get("MaximumRetryCount") or 0)
    if count < 0:
        raise InvalidArgument(f"RestartPolicy: MaximumRetryCount {count} must not be negative",
                              field="RestartPolicy")
    if count and name != "on-failure":
        raise InvalidArgument(f"RestartPolicy: maximum retry count cannot be used with restart policy {name!r}",
                              field="RestartPolicy")
    return {"Name": name, "MaximumRetryCount": count}


def _env_key(e: str) -> str:
    return e.split("=", 1)[0]


def merge_env(image_env: list[str], user_env: list[str]) -> list[str]:
    out: dict[str, str] = {}
    for e in list(image_env or []) + list(user_env or []):
        if not isinstance(e, str) or not e or e.startswith("="):
            raise InvalidArgument(f"Env: invalid environment variable {e!r}", field="Env")
        out[_env_key(e)] = e
    if "PATH" not in out:
        out = {"PATH": "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", **out}
    return list(out.values())


def _strlist(v: Any, field: str) -> list[str] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise InvalidArgument(f"{field}: expected a list of strings, got {v!r}", field=field)
    return list(v)


def command(body: dict[str, Any], image_cfg: dict[str, Any]) -> tuple[list[str], list[str] | None, list[str]]:
    """Docker's ENTRYPOINT/CMD table. Returns (entrypoint, cmd, args)."""
    ep = _strlist(body.get("Entrypoint"), "Entrypoint")
    cmd = _strlist(body.get("Cmd"), "Cmd")
    if ep is not None:
        entry = [] if ep == [""] else ep
        cmd = cmd if cmd is not None else []  # a new entrypoint resets the image's CMD
    else:
        entry = list(image_cfg.get("Entrypoint") or [])
        if cmd is None:
            cmd = list(image_cfg.get("Cmd") or [])
    args = entry + list(cmd or [])
    if not args:
        raise InvalidArgument("Cmd: no command specified (the image has no CMD or ENTRYPOINT either)", field="Cmd")
    return entry, cmd, args


def healthcheck(body_hc: dict[str, Any] | None, image_hc: dict[str, Any] | None) -> dict[str, Any] | None:
    if not body_hc and not image_hc:
        return None
    out = dict(image_hc or {})
    for k, v in (body_hc or {}).items():
        if v not in (None, 0, [], ""):
            out[k] = v
    test = out.get("Test") or []
    if test and test[0] not in ("NONE", "CMD", "CMD-SHELL"):
        raise InvalidArgument(f"Healthcheck: Test must start with NONE, CMD or CMD-SHELL, got {test!r}",
                              field="Healthcheck")
    for k in ("Interval", "Timeout", "StartPeriod"):
        v = int(out.get(k) or 0)
        if v and v < 1_000_000:
            raise InvalidArgument(f"Healthcheck: {k} {v}ns is below the minimum of 1ms", field="Healthcheck")
    if int(out.get("Retries") or 0) < 0:
        raise InvalidArgument("Healthcheck: Retries must not be negative", field="Healthcheck")
    return out


def parse_bind(spec: str) -> dict[str, Any]:
    """`-v src:dst[:opts]` / `dst` (anonymous volume) -> a Mounts entry."""
    parts = spec.split(":")
    if len(parts) == 1:
        src, dst, opts = "", parts[0], ""
    elif len(parts) == 2:
        src, dst, opts = parts[0], parts[1], ""
    elif len(parts) == 3:
        src, dst, opts = parts
    else:
        raise InvalidArgument(f"Binds: invalid volume specification {spec!r}", field="Binds")
    if not dst.startswith("/"):
        raise InvalidArgument(f"Binds: invalid volume specification {spec!r}: destination must be absolute",
                              field="Binds")
    rw, prop, nocopy = True, "", False
    for o in [x for x in opts.split(",") if x]:
        if o == "ro":
            rw = False
        elif o == "rw":
            rw = True
        elif o in _PROPAGATIONS:
            prop = o
        elif o == "nocopy":
            nocopy = True
        elif o in ("z", "Z", "delegated", "cached", "consistent"):
            continue
        else:
            raise InvalidArgument(f"Binds: invalid mode {o!r} in {spec!r}", field="Binds")
    if src.startswith("/"):
        return {"Type": "bind", "Source": os.path.normpath(src), "Destination": os.path.normpath(dst),
                "Mode": opts, "RW": rw, "Propagation": prop or "rprivate", "_create": True}
    if src and not VOLUME_NAME_RE.match(src):
        raise InvalidArgument(f"Binds: {src!r} includes invalid characters for a local volume name, only "
                              "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed; if you intended to pass a host "
                              "directory, use an absolute path", field="Binds")
    if prop:
        raise InvalidArgument(f"Binds: propagation {prop!r} is only for bind mounts ({spec!r})", field="Binds")
    return {"Type": "volume", "Name": src or None, "Source": "", "Destination": os.path.normpath(dst),
            "Driver": "local", "Mode": opts, "RW": rw, "Propagation": "", "_nocopy": nocopy}


def parse_mount(m: dict[str, Any]) -> dict[str, Any]:
    typ = m.get("Type") or "volume"
    target = m.get("Target") or m.get("Destination") or ""
    if not target.startswith("/"):
        raise InvalidArgument(f"Mounts: Target must be an absolute path, got {target!r}", field="Mounts")
    rw = not m.get("ReadOnly")
    if typ == "bind":
        src = m.get("Source") or ""
        if not src.startswith("/"):
            raise InvalidArgument(f"Mounts: bind Source must be an absolute path, got {src!r}", field="Mounts")
        if not os.path.exists(src):
            raise InvalidArgument(f"Mounts: invalid mount config for type \"bind\": bind source path does not "
                                  f"exist: {src}", field="Mounts")
        prop = (m.get("BindOptions") or {}).get("Propagation") or "rprivate"
        if prop not in _PROPAGATIONS:
            raise InvalidArgument(f"Mounts: invalid propagation {prop!r}", field="Mounts")
        return {"Type": "bind", "Source": os.path.normpath(src), "Destination": os.path.normpath(target),
                "Mode": "", "RW": rw, "Propagation": prop}
    if typ == "volume":
        name = m.get("Source") or None
        if name and not VOLUME_NAME_RE.match(name):
            raise InvalidArgument(f"Mounts: invalid volume name {name!r}", field="Mounts")
        vo = m.get("VolumeOptions") or {}
        dc = vo.get("DriverConfig") or {}
        if (dc.get("Name") or "local") != "local":
            raise InvalidArgument(f"Mounts: invalid volume driver {dc.get('Name')!r}: only 'local' exists",
                                  field="Mounts")
        vopts = {str(k): str(v) for k, v in (dc.get("Options") or {}).items()}
        bad = sorted(set(vopts) - {"type", "o", "device"})
        if bad:
            raise InvalidArgument(f"Mounts: invalid volume option {bad[0]!r}: the local driver knows type, o, device",
                                  field="Mounts")
        out = {"Type": "volume", "Name": name, "Source": "", "Destination": os.path.normpath(target),
               "Driver": "local", "Mode": "z", "RW": rw, "Propagation": "", "_nocopy": bool(vo.get("NoCopy"))}
        if vopts:
            out["_opts"] = vopts
        if vo.get("Labels"):
            out["_labels"] = {str(k): str(v) for k, v in vo["Labels"].items()}
        return out
    if typ == "tmpfs":
        return {"Type": "tmpfs", "Source": "", "Destination": os.path.normpath(target), "Mode": "", "RW": rw,
                "Propagation": ""}
    raise InvalidArgument(f"Mounts: unsupported mount type {typ!r}", field="Mounts")


def host_config(hc_in: dict[str, Any] | None) -> dict[str, Any]:
    hc = dict(hc_in or {})
    unknown = sorted(set(hc) - HOSTCONFIG_KEYS)
    if unknown:
        raise InvalidArgument(f"HostConfig: unknown field {unknown[0]!r}", field=f"HostConfig.{unknown[0]}")
    for k in _INT_FIELDS:
        if hc.get(k) is not None:
            try:
                hc[k] = int(hc[k])
            except (TypeError, ValueError):
                raise InvalidArgument(f"{k}: expected an integer, got {hc[k]!r}", field=k) from None
            if hc[k] < 0 and k not in ("MemorySwap", "PidsLimit", "OomScoreAdj", "CpuQuota", "MemorySwappiness"):
                raise InvalidArgument(f"{k}: must not be negative, got {hc[k]}", field=k)
    if hc.get("Memory") and hc["Memory"] < 6 * 1024 * 1024:
        raise InvalidArgument(f"Memory: minimum memory limit allowed is 6MB, got {hc['Memory']}", field="Memory")
    hc["RestartPolicy"] = restart_policy(hc.get("RestartPolicy"))
    if hc.get("AutoRemove") and hc["RestartPolicy"]["Name"] != "no":
        raise InvalidArgument("AutoRemove: conflicting options: AutoRemove and restart policy "
                              f"{hc['RestartPolicy']['Name']!r}", field="AutoRemove")
    nm = hc.get("NetworkMode") or "bridge"
    hc["NetworkMode"] = "bridge" if nm == "default" else nm
    hc["LogConfig"] = log_config(hc.get("LogConfig"))
    for k in ("CapAdd", "CapDrop", "Dns", "DnsSearch", "DnsOptions", "ExtraHosts", "SecurityOpt", "Binds",
              "GroupAdd", "VolumesFrom"):
        if hc.get(k) is not None:
            hc[k] = _strlist(hc[k], k)
    from engine.containers import spec

    for k in ("CapAdd", "CapDrop"):
        for c in hc.get(k) or []:
            spec.norm_cap(c, k)
    spec.security_opts(hc)
    spec.resources(hc)
    for k in (hc.get("Sysctls") or {}):
        spec.validate_sysctl(k, hc["NetworkMode"] == "host")
    for d in hc.get("Devices") or []:
        host, _dest, _perms = spec.parse_device(d)
        spec.device_from_host(host, host, "rwm")
    for u in hc.get("Ulimits") or []:
        spec.rlimits([u], spec.HostFacts(), [])
    for vf in hc.get("VolumesFrom") or []:
        parse_volumes_from(vf)
    cp = hc.get("CgroupParent")
    if cp not in (None, "") and (not isinstance(cp, str) or not re.fullmatch(r"[A-Za-z0-9_.@/-]+", cp)
                                 or any(part in (".", "..") for part in cp.split("/"))):
        raise InvalidArgument(f"CgroupParent: invalid cgroup parent {cp!r} (a cgroupfs path such as /ops or "
                              "ops/batch)", field="CgroupParent")
    if hc.get("CgroupnsMode") not in (None, "", "host", "private"):
        raise InvalidArgument(f"CgroupnsMode: invalid mode {hc['CgroupnsMode']!r} (expected 'host' or 'private')",
                              field="CgroupnsMode")
    if hc.get("DeviceCgroupRules") is not None:
        hc["DeviceCgroupRules"] = _strlist(hc["DeviceCgroupRules"], "DeviceCgroupRules")
        for r in hc["DeviceCgroupRules"] or []:
            spec.device_cgroup_rule(r)
    if hc.get("OomKillDisable") is not None:
        hc["OomKillDisable"] = bool(hc["OomKillDisable"])
    for k in NS_MODES:
        hc[k] = check_ns_mode(k, hc.get(k)) or ("private" if k == "IpcMode" else "")  # docker's inspect shows these
    if hc.get("UsernsMode") not in (None, ""):
        raise InvalidArgument(f"UsernsMode: {hc['UsernsMode']!r} is not supported by Berth", field="UsernsMode")
    return hc


# Namespace modes as docker has them: the values that need nothing else, and whether
# `container:NAME` (join that running container's namespace) is allowed.
NS_MODES = {"PidMode": (("", "host"), True),
            "IpcMode": (("", "private", "shareable", "host", "none"), True),
            "UTSMode": (("", "host"), False)}


def check_ns_mode(key: str, v: Any) -> Any:
    """`v` when it is a valid `key` (PidMode, IpcMode, UTSMode) or None; else InvalidArgument."""
    plain, joinable = NS_MODES[key]
    if v is None or v in plain:
        return v
    if joinable and isinstance(v, str) and v.startswith("container:") and v[10:].strip():
        return v
    allowed = ", ".join(repr(x) for x in plain if x) + (", 'container:NAME'" if joinable else "")
    raise InvalidArgument(f"{key}: invalid mode {v!r} (expected {allowed})", field=key)


def joined_containers(hc: dict[str, Any]) -> dict[str, str]:
    """The containers whose namespaces this one joins: {"NetworkMode": ref, "PidMode": ref, ...}."""
    out = {}
    for k in ("NetworkMode", "PidMode", "IpcMode"):
        v = hc.get(k) or ""
        if v.startswith("container:"):
            out[k] = v[10:]
    return out


LOG_DRIVER = "k8s-file"  # what conmon really writes
LOG_DRIVER_ALIASES = ("k8s-file", "json-file")


def log_config(log: dict[str, Any] | None) -> dict[str, Any]:
    """Validate LogConfig and record what is really used: conmon writes the k8s-file format, so
    `json-file` is accepted as an alias and recorded as `k8s-file`. Only options Berth honours
    pass: `max-size` (conmon --log-size-max; on reaching it conmon starts the file afresh, so
    one file is kept: `max-file` may only be 1), `compress=false`, `mode=blocking`."""
    log = dict(log or {})
    typ = log.get("Type") or LOG_DRIVER
    if typ not in LOG_DRIVER_ALIASES:
        raise InvalidArgument(f"LogConfig: log driver {typ!r} is not supported by Berth (k8s-file, or its "
                              "alias json-file)", field="LogConfig")
    conf = dict(log.get("Config") or {})
    for k, v in conf.items():
        v = str(v)
        if k == "max-size":
            from engine.containers.units import size

            size(v, "LogConfig")
        elif k == "max-file":
            if v != "1":
                raise InvalidArgument(f"LogConfig: max-file={v!r} is not supported by Berth: conmon keeps a "
                                      "single log file (starting it afresh at max-size); use max-file=1",
                                      field="LogConfig")
        elif k == "compress":
            if v.lower() != "false":
                raise InvalidArgument(f"LogConfig: compress={v!r} is not supported by Berth (no rotated files "
                                      "to compress)", field="LogConfig")
        elif k == "mode":
            if v != "blocking":
                raise InvalidArgument(f"LogConfig: mode={v!r} is not supported by Berth (conmon logs in "
                                      "blocking mode)", field="LogConfig")
        elif k in ("labels", "labels-regex", "env", "env-regex", "tag", "max-buffer-size"):
            raise InvalidArgument(f"LogConfig: log option {k!r} is not supported by Berth (the k8s-file "
                                  "format has no attributes)", field="LogConfig")
        else:
            raise InvalidArgument(f"LogConfig: unknown log option {k!r}", field="LogConfig")
        conf[k] = v
    return {"Type": LOG_DRIVER, "Config": conf}


def parse_volumes_from(spec: str) -> tuple[str, bool | None]:
    """`CONTAINER[:ro|rw]` -> (container, RW override or None to keep the source's mode)."""
    ref, _, mode = spec.partition(":")
    if not ref or mode not in ("", "ro", "rw"):
        raise InvalidArgument(f"VolumesFrom: invalid value {spec!r}, expected CONTAINER[:ro|rw]",
                              field="VolumesFrom")
    return ref, (None if not mode else mode == "rw")


def inherit_mounts(source: dict[str, Any], rw: bool | None) -> list[dict[str, Any]]:
    """The volume and bind mounts of container record `source`, as `--volumes-from` gives them."""
    out = []
    for m in source.get("Mounts") or []:
        if m["Type"] not in ("volume", "bind"):
            continue
        c = {k: v for k, v in m.items() if k != "_create"}
        if m["Type"] == "volume" and not c.get("Name"):
            continue  # not acquired yet: nothing to share
        if rw is not None:
            c["RW"] = rw
            c["Mode"] = "rw" if rw else "ro"
        c["_from"] = source["Id"]
        out.append(c)
    return out


def mounts(body: dict[str, Any], hc: dict[str, Any], image_cfg: dict[str, Any],
           inherited: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The container's mounts: its own binds, mounts and tmpfs, then `inherited` (volumes-from)
    where those left the destination free, then anonymous volumes for image/body VOLUMEs."""
    out: list[dict[str, Any]] = []
    for b in hc.get("Binds") or []:
        out.append(parse_bind(b))
    for m in hc.get("Mounts") or []:
        out.append(parse_mount(m))
    for dest in (hc.get("Tmpfs") or {}):
        if not dest.startswith("/"):
            raise InvalidArgument(f"Tmpfs: destination must be absolute, got {dest!r}", field="Tmpfs")
        spec_tmp = {"Type": "tmpfs", "Destination": os.path.normpath(dest)}
        out.append({**spec_tmp, "_hidden": True})
    seen: set[str] = set()
    for m in out:
        if m["Destination"] in seen:
            raise InvalidArgument(f"Mounts: duplicate mount point {m['Destination']!r}", field="Mounts")
        seen.add(m["Destination"])
    for m in inherited or []:
        if m["Destination"] not in seen:
            seen.add(m["Destination"])
            out.append(dict(m))
    # image VOLUMEs and body Volumes not covered by a mount become anonymous volumes
    for dest in list(image_cfg.get("Volumes") or {}) + list(body.get("Volumes") or {}):
        d = os.path.normpath(dest)
        if d not in seen:
            seen.add(d)
            out.append({"Type": "volume", "Name": None, "Source": "", "Destination": d, "Driver": "local",
                        "Mode": "", "RW": True, "Propagation": "", "_nocopy": False})
    return [m for m in out if not m.get("_hidden")]


def container_config(body: dict[str, Any], image_cfg: dict[str, Any], image_name: str, cid: str
                     ) -> tuple[dict[str, Any], list[str]]:
    """The record's `Config` (body merged over the image config) and the process args."""
    unknown = sorted(set(body) - CONFIG_KEYS)
    if unknown:
        raise InvalidArgument(f"unknown field {unknown[0]!r} in the create body", field=unknown[0])
    entry, cmd, args = command(body, image_cfg)
    labels = dict(image_cfg.get("Labels") or {})
    labels.update(body.get("Labels") or {})
    for k, v in labels.items():
        if not isinstance(v, str):
            raise InvalidArgument(f"Labels: value of {k!r} must be a string, got {v!r}", field="Labels")
    stop_signal = body.get("StopSignal") or image_cfg.get("StopSignal") or "SIGTERM"
    parse_signal(stop_signal)
    hostname = body.get("Hostname") or cid[:12]
    if len(hostname) > 63 or not re.match(r"^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$", hostname):
        raise InvalidArgument(f"Hostname: invalid hostname {hostname!r}", field="Hostname")
    if (body.get("HostConfig") or {}).get("UTSMode") == "host":  # the host's name, as docker shows it
        if body.get("Hostname"):
            raise InvalidArgument("Hostname: conflicting options: hostname and the UTS mode host", field="Hostname")
        hostname = os.uname().nodename
    exposed = dict(image_cfg.get("ExposedPorts") or {})
    exposed.update(body.get("ExposedPorts") or {})
    workdir = body.get("WorkingDir") or image_cfg.get("WorkingDir") or ""
    if workdir and not workdir.startswith("/"):
        raise InvalidArgument(f"WorkingDir: the working directory {workdir!r} is invalid, it needs to be an "
                              "absolute path", field="WorkingDir")
    stop_timeout = body.get("StopTimeout")
    if stop_timeout is not None:
        stop_timeout = int(stop_timeout)
    cfg = {
        "Hostname": hostname,
        "Domainname": body.get("Domainname") or "",
        "User": body.get("User") if body.get("User") is not None else (image_cfg.get("User") or ""),
        "AttachStdin": bool(body.get("AttachStdin")),
        "AttachStdout": bool(body.get("AttachStdout", True)),
        "AttachStderr": bool(body.get("AttachStderr", True)),
        "ExposedPorts": exposed or None,
        "Tty": bool(body.get("Tty")),
        "OpenStdin": bool(body.get("OpenStdin")),
        "StdinOnce": bool(body.get("StdinOnce")),
        "Env": merge_env(image_cfg.get("Env") or [], _strlist(body.get("Env"), "Env") or []),
        "Cmd": cmd or None,
        "Healthcheck": healthcheck(body.get("Healthcheck"), image_cfg.get("Healthcheck")),
        "Image": image_name,
        "Volumes": body.get("Volumes") or image_cfg.get("Volumes") or None,
        "WorkingDir": workdir,
        "Entrypoint": entry or None,
        "OnBuild": None,
        "Labels": labels,
        "StopSignal": stop_signal,
    }
    if stop_timeout is not None:
        cfg["StopTimeout"] = stop_timeout
    if cfg["Healthcheck"] is None:
        del cfg["Healthcheck"]
    return cfg, args
