"""Turn the forms users write (community.docker's) into the values Docker's API stores.

Every function is pure and raises `ValueError` with a short reason; the caller adds the field
name. The same function normalises the desired value, so a second identical apply compares equal
with what the engine stored the first time.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgtp]?)(?:i?b)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                   "h": 3600 * 10**9}
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def size(value: Any, allow_minus_one: bool = False) -> int:
    """`"512m"`, `"1g"`, `"1.5GB"`, `1024` → bytes (Docker's RAMInBytes: binary units)."""
    if isinstance(value, bool):
        raise ValueError("a size is expected, not a boolean")
    if isinstance(value, int):
        if value == -1 and allow_minus_one:
            return -1
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, float) and value.is_integer():
        return size(int(value), allow_minus_one)
    if isinstance(value, str):
        if allow_minus_one and value.strip() == "-1":
            return -1
        m = _SIZE_RE.match(value)
        if m:
            return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])
    raise ValueError("invalid size (use bytes or a number with a unit b, k, m, g, t, e.g. '512m')")


def duration_ns(value: Any) -> int:
    """`"1m30s"`, `"500ms"`, `30` (seconds) → nanoseconds, like Go's time.ParseDuration."""
    if isinstance(value, bool):
        raise ValueError("a duration is expected, not a boolean")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return int(value * 10**9)
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", s):
            return int(float(s) * 10**9)
        if s and _DURATION_RE.sub("", s) == "":
            return int(sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(s)))
    raise ValueError("invalid duration (use e.g. '30s', '1m30s', '500ms' or a number of seconds)")


def nano_cpus(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("a number of CPUs is expected")
    try:
        f = float(value)
    except ValueError:
        raise ValueError("a number of CPUs is expected, e.g. 1.5") from None
    if f < 0:
        raise ValueError("the number of CPUs cannot be negative")
    return int(round(f * 1e9))


def command(value: Any) -> list[str]:
    """community.docker's `command_handling: correct`: a string is shell-split, a list is kept."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as e:
            raise ValueError(f"cannot split the command: {e}") from None
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ValueError("a string or a list of strings is expected")


def stringify(v: Any) -> str:
    """Ansible sends YAML scalars; Docker stores strings. `True` → `"true"` like community.docker."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def env_list(d: dict[str, Any]) -> list[str]:
    return [f"{k}={stringify(v)}" for k, v in d.items()]


def env_dict(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items or []:
        k, _, v = it.partition("=")
        out[k] = v
    return out


def parse_env_file(text: str) -> dict[str, str]:
    """Docker's --env-file format: KEY=VALUE lines, `#` comments, blank lines ignored."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k, eq, v = line.partition("=")
        k = k.strip()
        if not k or " " in k:
            raise ValueError(f"line {n}: invalid variable name {k!r}")
        out[k] = v if eq else ""
    return out


def port_key(p: Any) -> str:
    """`80`, `"80"`, `"80/udp"` → `"80/tcp"`, `"80/udp"`."""
    s = str(p).strip()
    port, _, proto = s.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"unknown protocol {proto!r} in port {s!r}")
    if not re.fullmatch(r"\d+(?:-\d+)?", port):
        raise ValueError(f"invalid port {s!r}")
    return f"{port}/{proto}"


def _port_range(s: str, what: str) -> list[int]:
    if not re.fullmatch(r"\d+(?:-\d+)?", s):
        raise ValueError(f"invalid {what} {s!r}")
    a, _, b = s.partition("-")
    lo, hi = int(a), int(b or a)
    if hi < lo or not (0 <= lo <= 65535 and hi <= 65535):
        raise ValueError(f"invalid {what} range {s!r}")
    return list(range(lo, hi + 1))


def published_ports(specs: list[Any]) -> dict[str, list[dict[str, str]]]:
    """Docker's `-p` forms → HostConfig.PortBindings:
    `8080:80`, `127.0.0.1:8080:80/udp`, `127.0.0.1::80`, `80`, `8000-8001:80-81`, `[::1]:80:80`."""
    out: dict[str, list[dict[str, str]]] = {}
    for raw in specs:
        s = str(raw).strip()
        body, _, proto = s.partition("/")
        proto = proto or "tcp"
        ip = ""
        if body.startswith("["):
            end = body.find("]")
            if end < 0:
                raise ValueError(f"invalid port mapping {s!r}")
            ip, body = body[1:end], body[end + 1:].lstrip(":")
            parts = body.split(":")
            if len(parts) == 1:
                parts = ["", parts[0]]
        else:
            parts = body.split(":")
            if len(parts) == 3:
                ip = parts.pop(0)
        if len(parts) == 1:
            host, cont = "", parts[0]
        elif len(parts) == 2:
            host, cont = parts
        else:
            raise ValueError(f"invalid port mapping {s!r}")
        cports = _port_range(cont, "container port")
        hports = _port_range(host, "host port") if host else []
        if hports and len(hports) != len(cports):
            if len(cports) == 1:  # a host range for one container port: Docker picks one of them
                hports = [hports[0]] if len(hports) == 1 else hports
            else:
                raise ValueError(f"port ranges differ in length in {s!r}")
        for i, cp in enumerate(cports):
            key = port_key(f"{cp}/{proto}")
            if hports and len(hports) == len(cports):
                hp = str(hports[i])
            elif hports:
                hp = f"{hports[0]}-{hports[-1]}"
            else:
                hp = ""
            out.setdefault(key, []).append({"HostIp": ip, "HostPort": hp})
    return out


def port_bindings_canon(pb: dict[str, Any] | None) -> list[str]:
    """A comparable form of PortBindings: sorted `ip:host:port/proto` strings. A binding to all
    addresses ("" or 0.0.0.0) compares equal either way."""
    out = []
    for key, binds in (pb or {}).items():
        for b in binds or [{}]:
            ip = (b or {}).get("HostIp") or ""
            if ip in ("0.0.0.0", "::"):
                ip = ""
            out.append(f"{ip}:{(b or {}).get('HostPort') or ''}:{port_key(key)}")
    return sorted(set(out))


def volumes(specs: list[str]) -> tuple[list[str], dict[str, dict]]:
    """community.docker `volumes` → (HostConfig.Binds, Config.Volumes for anonymous ones)."""
    binds: list[str] = []
    anon: dict[str, dict] = {}
    for raw in specs:
        s = str(raw)
        parts = s.split(":")
        if len(parts) == 1:
            if not s.startswith("/"):
                raise ValueError(f"invalid volume {s!r}: the container path must be absolute")
            anon[s] = {}
            continue
        if len(parts) > 3:
            raise ValueError(f"invalid volume {s!r}: want SRC:DST[:MODE]")
        src, dst = parts[0], parts[1]
        if not dst.startswith("/"):
            raise ValueError(f"invalid volume {s!r}: the container path must be absolute")
        if not src:
            raise ValueError(f"invalid volume {s!r}: empty source")
        mode = parts[2] if len(parts) == 3 else ""
        for m in filter(None, mode.split(",")):
            if m not in ("ro", "rw", "z", "Z", "shared", "rshared", "slave", "rslave", "private",
                         "rprivate", "nocopy"):
                raise ValueError(f"invalid volume mode {m!r} in {s!r}")
        binds.append(f"{src}:{dst}" + (f":{mode}" if mode else ""))
    return binds, anon


def bind_canon(b: str) -> str:
    """`/src:/dst:rw` == `/src:/dst` (rw is the default); mode flags sorted."""
    parts = b.split(":")
    if len(parts) == 3:
        flags = sorted(f for f in parts[2].split(",") if f and f != "rw")
        return f"{parts[0]}:{parts[1]}" + (":" + ",".join(flags) if flags else "")
    return b


def tmpfs(specs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in specs:
        path, _, opts = str(raw).partition(":")
        if not path.startswith("/"):
            raise ValueError(f"invalid tmpfs {raw!r}: the path must be absolute")
        out[path] = opts
    return out


def ulimits(specs: list[str]) -> list[dict[str, Any]]:
    out = []
    for raw in specs:
        parts = str(raw).split(":")
        if len(parts) not in (2, 3) or not parts[0]:
            raise ValueError(f"invalid ulimit {raw!r}: want NAME:SOFT[:HARD]")
        try:
            soft = int(parts[1])
            hard = int(parts[2]) if len(parts) == 3 else soft
        except ValueError:
            raise ValueError(f"invalid ulimit {raw!r}: limits must be integers") from None
        if hard != -1 and soft > hard:
            raise ValueError(f"invalid ulimit {raw!r}: soft limit above hard limit")
        out.append({"Name": parts[0], "Soft": soft, "Hard": hard})
    return out


def devices(specs: list[str]) -> list[dict[str, str]]:
    out = []
    for raw in specs:
        parts = str(raw).split(":")
        if len(parts) > 3 or not parts[0].startswith("/"):
            raise ValueError(f"invalid device {raw!r}: want /HOST[:/CONTAINER[:PERMS]]")
        host = parts[0]
        cont = parts[1] if len(parts) > 1 and parts[1] else host
        perms = parts[2] if len(parts) > 2 else "rwm"
        if len(parts) == 2 and not parts[1].startswith("/"):
            cont, perms = host, parts[1]
        if not perms or set(perms) - set("rwm"):
            raise ValueError(f"invalid device permissions {perms!r} in {raw!r}")
        out.append({"PathOnHost": host, "PathInContainer": cont, "CgroupPermissions": perms})
    return out


def capability(c: str) -> str:
    c = str(c).strip().upper()
    if c == "ALL":
        return c
    return c if c.startswith("CAP_") else "CAP_" + c


def healthcheck(hc: dict[str, Any]) -> dict[str, Any]:
    """community.docker healthcheck → Docker's Config.Healthcheck."""
    out: dict[str, Any] = {}
    test = hc.get("test")
    if test is not None:
        if isinstance(test, str):
            out["Test"] = ["NONE"] if test == "NONE" else ["CMD-SHELL", test]
        elif isinstance(test, list) and test:
            t = [str(x) for x in test]
            out["Test"] = t if t[0] in ("CMD", "CMD-SHELL", "NONE") else ["CMD", *t]
        else:
            raise ValueError("healthcheck.test must be a string or a non-empty list")
    for key, api in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"),
                     ("start_interval", "StartInterval")):
        if hc.get(key) is not None:
            try:
                out[api] = duration_ns(hc[key])
            except ValueError as e:
                raise ValueError(f"healthcheck.{key}: {e}") from None
    if hc.get("retries") is not None:
        out["Retries"] = int(hc["retries"])
    return out


def healthcheck_canon(hc: dict[str, Any] | None) -> dict[str, Any]:
    """Zero durations/retries mean "default": drop them so {} == {"Interval": 0}."""
    return {k: v for k, v in (hc or {}).items() if v not in (0, None, [], "")}


def image_ref(name: str) -> str:
    """`busybox` → `docker.io/library/busybox:latest`; digests pinned as given."""
    from engine.images.reference import parse

    try:
        return str(parse(name))
    except Exception as e:  # InvalidArgument from the parser
        raise ValueError(getattr(e, "message", str(e))) from None


def network_mode(v: str) -> str:
    return "bridge" if v in ("default", "") else v


def signal_name(s: Any) -> str:
    """`SIGTERM`, `TERM`, `15` all compare equal."""
    import signal as _signal

    t = str(s).strip().upper()
    if t.isdigit():
        try:
            return _signal.Signals(int(t)).name
        except ValueError:
            raise ValueError(f"unknown signal {s!r}") from None
    if not t.startswith("SIG"):
        t = "SIG" + t
    if t not in _signal.Signals.__members__:
        raise ValueError(f"unknown signal {s!r}")
    return t
