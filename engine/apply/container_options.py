"""Every docker_container option Berth supports, declared once as data.

One `Option` row yields: the pydantic field of the spec model (`type`), how the value lands in
Docker's create body (`convert` + `to_body`, by default the dotted `path`), how the live value is
read back from the inspect record (`from_live`), how both sides are made comparable (`canon`),
the default comparison mode and datatype, and whether a difference can be applied in place
(`updatable`, via engine.containers.api.update). models.py, the planner and the docs table all
derive from `OPTIONS`.

Plain standard library here: this module is imported on every `berth apply` of a container.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from engine.apply import normalize as n

# ---------------------------------------------------------------- nested spec shapes (typed dicts
# are described for the model in models.py; here they stay plain dicts)


def _ident(v: Any) -> Any:
    return v


def _canon_ident(v: Any, img: dict) -> Any:
    return v


def get_path(doc: dict | None, path: str) -> Any:
    cur: Any = doc
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def set_path(doc: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    cur = doc
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


def inspect_path(body_path: str) -> str:
    """Where a create-body field lives in the inspect record."""
    if body_path.startswith(("HostConfig.", "NetworkingConfig.")):
        return body_path
    return "Config." + body_path


@dataclass(frozen=True)
class Option:
    name: str
    type: Any
    path: str | None = None  # dotted path in the create body
    convert: Callable[[Any], Any] = _ident  # user value -> API value; ValueError if invalid
    canon: Callable[[Any, dict], Any] = _canon_ident  # API value (either side) -> comparable
    datatype: str = "value"  # value | list | set | dict
    comparison: str = "strict"
    updatable: bool = False
    to_body: Callable[[Any, dict], None] | None = None  # override: write API value into body
    from_live: Callable[[dict], Any] | None = None  # override: read API value from inspect
    matches: Callable[[Any, Any, str], bool] | None = None  # override the comparator
    help: str = ""

    def body(self, api_value: Any, body: dict) -> None:
        if self.to_body is not None:
            self.to_body(api_value, body)
        elif self.path:
            set_path(body, self.path, api_value)

    def live(self, inspect: dict) -> Any:
        if self.from_live is not None:
            return self.from_live(inspect)
        return get_path(inspect, inspect_path(self.path)) if self.path else None


# ---------------------------------------------------------------- converters with structure


def _str_list(v: Any) -> list[str]:
    return [str(x) for x in v]


def _str_dict(v: dict) -> dict[str, str]:
    return {str(k): n.stringify(x) for k, x in v.items()}


def _sorted(v: Any, img: dict) -> Any:
    return sorted(v) if isinstance(v, list) else v


def _env_canon(v: Any, img: dict) -> dict[str, str]:
    return n.env_dict(v) if isinstance(v, list) else dict(v or {})


def _exposed_convert(v: list) -> dict[str, dict]:
    return {n.port_key(p): {} for p in v}


def _exposed_canon(v: Any, img: dict) -> list[str]:
    return sorted(n.port_key(k) for k in (v or {}))


def _published_convert(v: list) -> dict:
    if [str(x) for x in v] == ["all"]:
        return {"all": True}
    if "all" in [str(x) for x in v]:
        raise ValueError("'all' cannot be combined with other port mappings")
    return n.published_ports(v)


def _published_body(v: dict, body: dict) -> None:
    if v == {"all": True}:
        set_path(body, "HostConfig.PublishAllPorts", True)
        return
    set_path(body, "HostConfig.PortBindings", v)
    exposed = body.setdefault("ExposedPorts", {})
    for key in v:
        exposed.setdefault(key, {})


def _published_live(ins: dict) -> Any:
    return get_path(ins, "HostConfig.PortBindings") or {}


def _published_canon(v: Any, img: dict) -> Any:
    if v == {"all": True}:
        return ["all"]
    return n.port_bindings_canon(v)


def _published_matches(desired: Any, live: Any, mode: str) -> bool:
    if desired == ["all"]:
        return True  # compared through publish_all_ports (set below by the planner)
    from engine.apply.compare import compare

    return compare(desired, live, mode, "set")


def _volumes_convert(v: list) -> dict:
    binds, anon = n.volumes([str(x) for x in v])
    return {"Binds": binds, "Volumes": anon}


def _volumes_body(v: dict, body: dict) -> None:
    if v["Binds"]:
        set_path(body, "HostConfig.Binds", v["Binds"])
    if v["Volumes"]:
        body.setdefault("Volumes", {}).update(v["Volumes"])


def _volumes_live(ins: dict) -> dict:
    return {"Binds": get_path(ins, "HostConfig.Binds") or [],
            "Volumes": get_path(ins, "Config.Volumes") or {}}


def _volumes_canon(v: Any, img: dict) -> list[str]:
    image_vols = set((img or {}).get("Volumes") or {})
    out = {n.bind_canon(b) for b in v.get("Binds") or []}
    out |= {p for p in (v.get("Volumes") or {}) if p not in image_vols}
    # a path bound by Binds also appears in Volumes in some records: keep the bind only
    bound = {b.split(":")[1] for b in out if ":" in b}
    return sorted(x for x in out if ":" in x or x not in bound)


_MOUNT_KEYS = {"target", "source", "type", "read_only", "propagation", "no_copy", "labels",
               "volume_driver", "volume_options", "tmpfs_size", "tmpfs_mode", "consistency"}


def _mounts_convert(v: list) -> list[dict]:
    out = []
    for m in v:
        m = {k: x for k, x in dict(m).items() if x is not None}
        unknown = set(m) - _MOUNT_KEYS
        if unknown:
            raise ValueError(f"unknown mount option {sorted(unknown)[0]!r}")
        typ = m.get("type", "volume")
        if typ not in ("bind", "volume", "tmpfs"):
            raise ValueError(f"mount type {typ!r} is not supported by Berth (bind, volume, tmpfs)")
        if not str(m.get("target", "")).startswith("/"):
            raise ValueError(f"mount target {m.get('target')!r} must be an absolute path")
        if m.get("volume_driver") not in (None, "local"):
            raise ValueError(f"volume_driver {m['volume_driver']!r} is not supported by Berth (local)")
        api: dict[str, Any] = {"Type": typ, "Target": m["target"]}
        if m.get("source"):
            api["Source"] = m["source"]
        elif typ == "bind":
            raise ValueError("a bind mount needs a source")
        if m.get("read_only"):
            api["ReadOnly"] = True
        if typ == "bind" and m.get("propagation"):
            api["BindOptions"] = {"Propagation": m["propagation"]}
        if typ == "volume":
            vo: dict[str, Any] = {}
            if m.get("no_copy"):
                vo["NoCopy"] = True
            if m.get("labels"):
                vo["Labels"] = _str_dict(m["labels"])
            if m.get("volume_options"):
                vo["DriverConfig"] = {"Name": "local", "Options": _str_dict(m["volume_options"])}
            if vo:
                api["VolumeOptions"] = vo
        if typ == "tmpfs":
            to: dict[str, Any] = {}
            if m.get("tmpfs_size") is not None:
                to["SizeBytes"] = n.size(m["tmpfs_size"])
            if m.get("tmpfs_mode") is not None:
                mode = m["tmpfs_mode"]
                to["Mode"] = int(mode, 8) if isinstance(mode, str) else int(mode)
            if to:
                api["TmpfsOptions"] = to
        out.append(api)
    return out


def _mounts_canon(v: Any, img: dict) -> list[str]:
    import json

    def one(m: dict) -> str:
        m = {k: x for k, x in m.items() if x not in (None, False, {}, "", [])}
        return json.dumps(m, sort_keys=True)

    return sorted(one(m) for m in v or [])


def _tmpfs_convert(v: list) -> dict[str, str]:
    return n.tmpfs([str(x) for x in v])


def _restart_name(v: str) -> str:
    return "no" if v in ("", "no") else v


def _restart_name_canon(v: Any, img: dict) -> str:
    return "no" if not v else v


def _zero_canon(v: Any, img: dict) -> Any:
    return v or 0


def _cap_convert(v: list) -> list[str]:
    return [n.capability(c) for c in v]


def _cap_canon(v: Any, img: dict) -> list[str]:
    return sorted(n.capability(c) for c in v or [])


def _ulimit_canon(v: Any, img: dict) -> list[str]:
    return sorted(f"{u['Name']}:{u['Soft']}:{u['Hard']}" for u in v or [])


def _devices_canon(v: Any, img: dict) -> list[str]:
    return sorted(f"{d['PathOnHost']}:{d['PathInContainer']}:{d['CgroupPermissions']}" for d in v or [])


def _etc_hosts_convert(v: dict) -> list[str]:
    return [f"{h}:{ip}" for h, ip in v.items()]


def _sysctls_canon(v: Any, img: dict) -> dict[str, str]:
    return {str(k): str(x) for k, x in (v or {}).items()}


def _hc_canon(v: Any, img: dict) -> dict:
    return n.healthcheck_canon(v)


def _healthcheck_convert(v: dict) -> dict:
    return n.healthcheck({k: x for k, x in dict(v).items() if x is not None})


def _log_driver(v: str) -> str:
    if v not in ("json-file", "k8s-file"):
        raise ValueError(f"log driver {v!r} is not supported by Berth (k8s-file, or its alias json-file)")
    return v


def _log_driver_canon(v: Any, img: dict) -> str:
    # conmon writes k8s-file; json-file is accepted as its alias and recorded as k8s-file
    return "k8s-file" if v in (None, "", "json-file") else v


def _networks_convert(v: list) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for net in v:
        net = {k: x for k, x in dict(net).items() if x is not None}
        for bad in ("ipv6_address", "links", "driver_opts", "gw_priority"):
            if bad in net:
                raise ValueError(f"network option {bad!r} is not supported by Berth")
        unknown = set(net) - {"name", "aliases", "ipv4_address", "mac_address"}
        if unknown:
            raise ValueError(f"unknown network option {sorted(unknown)[0]!r}")
        if not net.get("name"):
            raise ValueError("each network needs a name")
        ep: dict[str, Any] = {}
        if net.get("aliases"):
            ep["Aliases"] = [str(a) for a in net["aliases"]]
        if net.get("ipv4_address"):
            ep["IPAMConfig"] = {"IPv4Address": str(net["ipv4_address"])}
        if net.get("mac_address"):
            ep["MacAddress"] = str(net["mac_address"]).lower()
        out[str(net["name"])] = ep
    return out


def _networks_body(v: dict, body: dict) -> None:
    set_path(body, "NetworkingConfig.EndpointsConfig", v)
    if v and not get_path(body, "HostConfig.NetworkMode"):
        set_path(body, "HostConfig.NetworkMode", next(iter(v)))


def _networks_live(ins: dict) -> dict:
    """The networks the container was asked to join (kept in the record as the create body's
    NetworkingConfig plus NetworkMode), else those it is attached to now."""
    eps = dict(get_path(ins, "NetworkingConfig.EndpointsConfig") or {})
    mode = get_path(ins, "HostConfig.NetworkMode") or ""
    if mode and mode not in ("default", "bridge", "host", "none") and not mode.startswith("container:"):
        eps.setdefault(mode, {})
    if not eps:
        eps = get_path(ins, "NetworkSettings.Networks") or {}
    out = {}
    for name, ep in eps.items():
        ep = ep or {}
        out[name] = {"Aliases": ep.get("Aliases") or [],
                     "IPAMConfig": ep.get("IPAMConfig") or {},
                     "MacAddress": (ep.get("MacAddress") or "").lower()}
    return out


def _networks_canon(v: Any, img: dict) -> dict:
    out = {}
    for name, ep in (v or {}).items():
        ep = ep or {}
        c: dict[str, Any] = {"aliases": sorted(ep.get("Aliases") or [])}
        ip = (ep.get("IPAMConfig") or {}).get("IPv4Address")
        if ip:
            c["ipv4_address"] = ip
        if ep.get("MacAddress"):
            c["mac_address"] = ep["MacAddress"].lower()
        out[name] = c
    return out


def _networks_matches(desired: dict, live: dict, mode: str) -> bool:
    if mode == "ignore":
        return True
    if mode == "strict" and set(desired) != set(live):
        return False
    for name, want in desired.items():
        have = live.get(name)
        if have is None:
            return False
        if not set(want.get("aliases", [])) <= set(have.get("aliases", [])):
            return False
        for k in ("ipv4_address", "mac_address"):
            if want.get(k) and want[k] != have.get(k):
                return False
    return True


def _network_mode_canon(v: Any, img: dict) -> str:
    return n.network_mode(v or "")


def _signal_canon(v: Any, img: dict) -> Any:
    if not v:
        return "SIGTERM"
    try:
        return n.signal_name(v)
    except ValueError:
        return v


def _signal_convert(v: Any) -> str:
    return n.signal_name(v)


def _bool_canon(v: Any, img: dict) -> bool:
    return bool(v)


def _ns_mode_convert(key: str) -> Callable[[Any], str]:
    """The engine's own check of a namespace mode (HostConfig `key`), also in check mode
    before the image is there."""
    def convert(v: Any) -> str:
        from engine.containers.config import check_ns_mode
        from engine.errors import InvalidArgument

        try:
            return str(check_ns_mode(key, str(v)))
        except InvalidArgument as e:
            raise ValueError(e.message) from None
    return convert


def _throttle_convert(bps: bool) -> Callable[[Any], list[dict[str, Any]]]:
    """community.docker's [{path, rate}] (rate a size such as 20M for bps, a count for iops)."""
    def convert(v: Any) -> list[dict[str, Any]]:
        out = []
        for t in v:
            if not isinstance(t, dict) or set(t) - {"path", "rate"} or not t.get("path") or t.get("rate") is None:
                raise ValueError(f"expected {{path, rate}}, got {t!r}")
            rate = n.size(t["rate"]) if bps else int(t["rate"])
            out.append({"Path": str(t["path"]), "Rate": rate})
        return out
    return convert


def _throttle_canon(v: Any, img: dict) -> list[str]:
    return sorted(f"{t['Path']}:{t['Rate']}" for t in v or [])


def _swappiness_canon(v: Any, img: dict) -> Any:
    return -1 if v is None else v  # docker's "unset"


def _ipc_canon(v: Any, img: dict) -> Any:
    return v or "private"  # docker's default, as inspect shows it


Size = int | str
Duration = int | float | str

# --------------------------------------------------------------------------------- the table
OPTIONS: tuple[Option, ...] = (
    Option("command", str | list[str], "Cmd", n.command, datatype="list",
           help="command (string: shell-split; list: used as is)"),
    Option("entrypoint", list[str], "Entrypoint", _str_list, datatype="list"),
    Option("env", dict[str, Any], "Env", lambda v: n.env_list(v), _env_canon, datatype="dict",
           comparison="allow_more_present"),
    Option("labels", dict[str, Any], "Labels", _str_dict, _env_canon, datatype="dict",
           comparison="allow_more_present"),
    Option("user", str, "User"),
    Option("working_dir", str, "WorkingDir"),
    Option("hostname", str, "Hostname"),
    Option("domainname", str, "Domainname"),
    Option("published_ports", list[str | int], None, _published_convert, _published_canon,
           datatype="set", to_body=_published_body, from_live=_published_live,
           matches=_published_matches),
    Option("publish_all_ports", bool, "HostConfig.PublishAllPorts", canon=_bool_canon),
    Option("exposed_ports", list[str | int], "ExposedPorts", _exposed_convert, _exposed_canon,
           datatype="set", comparison="allow_more_present"),
    Option("networks", list[dict[str, Any]], None, _networks_convert, _networks_canon, datatype="dict",
           comparison="allow_more_present", to_body=_networks_body, from_live=_networks_live,
           matches=_networks_matches),
    Option("network_mode", str, "HostConfig.NetworkMode", n.network_mode, _network_mode_canon),
    Option("volumes", list[str], None, _volumes_convert, _volumes_canon, datatype="set",
           to_body=_volumes_body, from_live=_volumes_live),
    Option("mounts", list[dict[str, Any]], "HostConfig.Mounts", _mounts_convert, _mounts_canon,
           datatype="set"),
    Option("tmpfs", list[str], "HostConfig.Tmpfs", _tmpfs_convert, datatype="dict"),
    Option("volumes_from", list[str], "HostConfig.VolumesFrom", _str_list, _sorted, datatype="set"),
    Option("restart_policy", Literal["no", "on-failure", "always", "unless-stopped"],
           "HostConfig.RestartPolicy.Name", _restart_name, _restart_name_canon, updatable=True),
    Option("restart_retries", int, "HostConfig.RestartPolicy.MaximumRetryCount", canon=_zero_canon,
           updatable=True),
    Option("memory", Size, "HostConfig.Memory", n.size, _zero_canon, updatable=True),
    Option("memory_swap", Size, "HostConfig.MemorySwap", lambda v: n.size(v, allow_minus_one=True),
           _zero_canon, updatable=True),
    Option("memory_reservation", Size, "HostConfig.MemoryReservation", n.size, _zero_canon,
           updatable=True),
    Option("cpus", float, "HostConfig.NanoCpus", n.nano_cpus, _zero_canon, updatable=True),
    Option("cpu_shares", int, "HostConfig.CpuShares", canon=_zero_canon, updatable=True),
    Option("cpu_period", int, "HostConfig.CpuPeriod", canon=_zero_canon, updatable=True),
    Option("cpu_quota", int, "HostConfig.CpuQuota", canon=_zero_canon, updatable=True),
    Option("cpuset_cpus", str, "HostConfig.CpusetCpus", updatable=True),
    Option("cpuset_mems", str, "HostConfig.CpusetMems", updatable=True),
    Option("pids_limit", int, "HostConfig.PidsLimit", canon=_zero_canon, updatable=True),
    Option("blkio_weight", int, "HostConfig.BlkioWeight", canon=_zero_canon, updatable=True),
    Option("ulimits", list[str], "HostConfig.Ulimits", lambda v: n.ulimits([str(x) for x in v]),
           _ulimit_canon, datatype="set"),
    Option("sysctls", dict[str, Any], "HostConfig.Sysctls", _str_dict, _sysctls_canon, datatype="dict"),
    Option("capabilities", list[str], "HostConfig.CapAdd", _cap_convert, _cap_canon, datatype="set"),
    Option("cap_drop", list[str], "HostConfig.CapDrop", _cap_convert, _cap_canon, datatype="set"),
    Option("groups", list[str], "HostConfig.GroupAdd", _str_list, _sorted, datatype="set"),
    Option("oom_score_adj", int, "HostConfig.OomScoreAdj", canon=_zero_canon),
    Option("privileged", bool, "HostConfig.Privileged", canon=_bool_canon),
    Option("devices", list[str], "HostConfig.Devices", lambda v: n.devices([str(x) for x in v]),
           _devices_canon, datatype="set"),
    Option("read_only", bool, "HostConfig.ReadonlyRootfs", canon=_bool_canon),
    Option("security_opts", list[str], "HostConfig.SecurityOpt", _str_list, _sorted, datatype="set"),
    Option("init", bool, "HostConfig.Init", canon=_bool_canon),
    Option("pid_mode", str, "HostConfig.PidMode", _ns_mode_convert("PidMode")),
    Option("ipc_mode", str, "HostConfig.IpcMode", _ns_mode_convert("IpcMode"), _ipc_canon),
    Option("uts", str, "HostConfig.UTSMode", _ns_mode_convert("UTSMode")),
    Option("cgroupns_mode", Literal["host", "private"], "HostConfig.CgroupnsMode"),
    Option("cgroup_parent", str, "HostConfig.CgroupParent"),
    Option("memory_swappiness", int, "HostConfig.MemorySwappiness", canon=_swappiness_canon),
    Option("oom_killer", bool, "HostConfig.OomKillDisable", canon=_bool_canon),
    Option("device_cgroup_rules", list[str], "HostConfig.DeviceCgroupRules", _str_list, datatype="list"),
    Option("device_read_bps", list[dict[str, Any]], "HostConfig.BlkioDeviceReadBps", _throttle_convert(True),
           _throttle_canon, datatype="set"),
    Option("device_write_bps", list[dict[str, Any]], "HostConfig.BlkioDeviceWriteBps", _throttle_convert(True),
           _throttle_canon, datatype="set"),
    Option("device_read_iops", list[dict[str, Any]], "HostConfig.BlkioDeviceReadIOps", _throttle_convert(False),
           _throttle_canon, datatype="set"),
    Option("device_write_iops", list[dict[str, Any]], "HostConfig.BlkioDeviceWriteIOps", _throttle_convert(False),
           _throttle_canon, datatype="set"),
    Option("shm_size", Size, "HostConfig.ShmSize", n.size, _zero_canon),
    Option("stop_signal", str, "StopSignal", _signal_convert, _signal_canon),
    Option("stop_timeout", int, "StopTimeout"),
    Option("healthcheck", dict[str, Any], "Healthcheck", _healthcheck_convert, _hc_canon, datatype="dict"),
    Option("etc_hosts", dict[str, str], "HostConfig.ExtraHosts", _etc_hosts_convert, _sorted,
           datatype="set"),
    Option("dns_servers", list[str], "HostConfig.Dns", _str_list, datatype="list"),
    Option("dns_search_domains", list[str], "HostConfig.DnsSearch", _str_list, datatype="list"),
    Option("dns_opts", list[str], "HostConfig.DnsOptions", _str_list, _sorted, datatype="set"),
    Option("log_driver", str, "HostConfig.LogConfig.Type", _log_driver, _log_driver_canon),
    Option("log_options", dict[str, Any], "HostConfig.LogConfig.Config", _str_dict, _sysctls_canon,
           datatype="dict"),
    Option("interactive", bool, "OpenStdin", canon=_bool_canon),
    Option("tty", bool, "Tty", canon=_bool_canon),
    Option("auto_remove", bool, "HostConfig.AutoRemove", canon=_bool_canon),
)
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}

# Options that steer the module and are never compared with the container.
BEHAVIOUR: dict[str, Any] = {
    "name": str,
    "image": str,
    "env_file": str,
    "pull": bool | Literal["missing", "always", "never"],
    "comparisons": dict[str, Literal["strict", "ignore", "allow_more_present"]],
    "recreate": bool,
    "restart": bool,
    "force_kill": bool,
    "kill_signal": str,
    "keep_volumes": bool,
    "removal_wait_timeout": float,
    "healthy_wait_timeout": float,
    "image_comparison": Literal["desired-image", "current-image"],
    "image_name_mismatch": Literal["recreate", "ignore"],
    "detach": bool,
    "cleanup": bool,
    "output_logs": bool,
    "paused": bool,
    "command_handling": Literal["correct"],
    "networks_cli_compatible": Literal[True],
    "container_default_behavior": Literal["no_defaults"],
}

# docker_container options Berth refuses by name (a clearer message than "unknown option").
UNSUPPORTED = frozenset({
    "api_version", "blkio_weight_device", "ca_path", "client_cert",
    "client_key", "debug", "default_host_ip",
    "device_requests", "docker_host",
    "ignore_image", "io_maximum_bandwidth", "io_maximum_iops", "kernel_memory",
    "links", "mac_address",
    "platform", "purge_networks", "runtime", "storage_opts", "timeout",
    "tls", "tls_hostname", "trust_image_content", "use_ssh_client", "userns_mode",
    "validate_certs", "gpus", "volume_driver",
})

# Options whose strict comparison is against the image's value overlaid with the user's.
IMAGE_MERGED = {"env": "Env", "labels": "Labels"}
