"""Volumes, local driver (see docs/interfaces.md, "Networks and volumes").

Layout: `<root>/volumes/<name>/volume.json` (the inspect document), `_data/` (what containers
mount; a mount point when the volume has type/o/device options) and `users/<container id>`
(containers that acquired it, for mount reference counting). Whether a volume is in use is
decided from the container records (`Mounts[]` of Type volume), like Docker's reference store."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from engine.util.fs import atomic_write_json, read_json
from engine.util.lock import locked

if TYPE_CHECKING:
    from engine.context import Context

LOCK = "volumes"
ANON_LABEL = "com.docker.volume.anonymous"
OPT_KEYS = ("type", "o", "device")
NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")


def _dir(ctx: Context, name: str) -> Path:
    return ctx.volumes_dir / name


def _data(ctx: Context, name: str) -> Path:
    return _dir(ctx, name) / "_data"


def _load(ctx: Context, name: str) -> dict | None:
    if not NAME_RE.fullmatch(name or ""):
        return None
    return read_json(_dir(ctx, name) / "volume.json")


def check_name(name: str) -> None:
    if not NAME_RE.fullmatch(name or ""):
        raise InvalidArgument(f"invalid volume name {name!r}: at least 2 characters of letters, digits, "
                              "'_', '.', '-', starting with a letter or digit", field="name")


def _check_opts(opts: dict[str, str]) -> None:
    for k, v in opts.items():
        if k not in OPT_KEYS:
            raise InvalidArgument(f"invalid driver option {k!r}={v!r}: the local driver knows type, o, device",
                                  field="driver_options")
    if opts and ("type" not in opts or "device" not in opts):
        # docker: `o=bind` with device works without type; tmpfs needs type+device
        if not (opts.get("o", "").split(",").count("bind") and "device" in opts):
            raise InvalidArgument(f"invalid driver options {opts!r}: type and device are required",
                                  field="driver_options")
    if "bind" in opts.get("o", "").split(",") and not os.path.isdir(opts.get("device", "")):
        raise InvalidArgument(f"invalid driver option device={opts.get('device')!r}: no such directory to bind",
                              field="driver_options")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _create_locked(ctx: Context, name: str, driver: str, opts: dict[str, str], labels: dict[str, str]) -> dict:
    rec = _load(ctx, name)
    if rec is not None:
        if (opts and rec.get("Options") != opts) or (driver != rec.get("Driver")):
            raise Conflict(f"volume {name} already exists with different options (driver {rec['Driver']}, "
                           f"options {rec.get('Options') or {}})", field="name")
        return rec
    rec = {"CreatedAt": _now(), "Driver": driver, "Labels": dict(labels), "Mountpoint": str(_data(ctx, name)),
           "Name": name, "Options": dict(opts), "Scope": "local"}
    d = _dir(ctx, name)
    (d / "_data").mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o701)
    (d / "users").mkdir(exist_ok=True)
    atomic_write_json(d / "volume.json", rec)
    return rec


def create(ctx: Context, name: str | None = None, driver: str = "local", driver_opts: dict[str, str] | None = None,
           labels: dict[str, str] | None = None) -> dict:
    """Create a volume (Docker's `volume create`: an existing one with the same options is fine)."""
    driver = driver or "local"
    if driver != "local":
        raise InvalidArgument(f"invalid driver {driver!r}: only the 'local' volume driver exists", field="driver")
    opts = {str(k): str(v) for k, v in (driver_opts or {}).items()}
    _check_opts(opts)
    name = name or secrets.token_hex(32)
    check_name(name)
    with locked(ctx, LOCK):
        return _create_locked(ctx, name, driver, opts, {str(k): str(v) for k, v in (labels or {}).items()})


def _public(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if not k.startswith("Berth")}


def inspect(ctx: Context, name: str) -> dict:
    rec = _load(ctx, name)
    if rec is None:
        raise NotFound(f"volume {name} not found", field="name")
    return _public(rec)


def list_all(ctx: Context) -> list[dict]:
    out = []
    try:
        names = sorted(os.listdir(ctx.volumes_dir))
    except FileNotFoundError:
        return []
    for n in names:
        rec = _load(ctx, n)
        if rec:
            out.append(_public(rec))
    return out


def users(ctx: Context, name: str, exclude: str | None = None) -> list[str]:
    """Names of containers whose records mount the volume."""
    out = set()
    try:
        ids = os.listdir(ctx.containers_dir)
    except FileNotFoundError:
        ids = []
    for cid in ids:
        if cid == exclude:
            continue
        rec = read_json(ctx.containers_dir / cid / "container.json")
        if not isinstance(rec, dict):
            continue
        for m in rec.get("Mounts") or []:
            if m.get("Type") == "volume" and m.get("Name") == name:
                out.add(str(rec.get("Name") or cid).lstrip("/"))
    try:
        for cid in os.listdir(_dir(ctx, name) / "users"):
            if cid != exclude and (ctx.containers_dir / cid).is_dir() and not (
                    ctx.containers_dir / cid / "container.json").exists():
                out.add(cid[:12])  # being created right now
    except FileNotFoundError:
        pass
    return sorted(out)


def _is_mounted(path: Path) -> bool:
    p = str(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == p for line in f)


def _mount(rec: dict, data: Path) -> None:
    opts = rec.get("Options") or {}
    if not opts or _is_mounted(data):
        return
    o = opts.get("o", "")
    if "bind" in o.split(","):
        argv = ["mount", "--bind", opts["device"], str(data)]
        rest = [x for x in o.split(",") if x and x != "bind"]
        if rest:
            argv[1:1] = ["-o", ",".join(["bind", *rest])]
            argv.remove("--bind")
    else:
        argv = ["mount", "-t", opts["type"]] + (["-o", o] if o else []) + [opts["device"], str(data)]
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeFailure(f"mounting volume {rec['Name']} (type={opts.get('type')!r} o={o!r} "
                             f"device={opts.get('device')!r}) failed: {p.stderr.strip()}", field="driver_options")


def _umount(data: Path) -> None:
    if _is_mounted(data):
        p = subprocess.run(["umount", str(data)], capture_output=True, text=True)
        if p.returncode != 0:
            subprocess.run(["umount", "-l", str(data)], capture_output=True)


def _copy_up(src: Path, dst: Path) -> None:
    """Copy the image's content at the mount point into an empty volume: owners, modes, xattrs,
    symlinks as they are (never followed)."""
    st = os.lstat(src)
    os.chown(dst, st.st_uid, st.st_gid)
    os.chmod(dst, st.st_mode & 0o7777)
    if not any(os.scandir(src)):
        return
    p = subprocess.run(["cp", "-a", "--no-dereference", "--", f"{src}/.", f"{dst}/"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise RuntimeFailure(f"copying image content {src} into the volume failed: {p.stderr.strip()}",
                             field="Mounts")


def acquire(ctx: Context, name: str | None, container_id: str, copy_from: Path | None = None,
            nocopy: bool = False, driver_opts: dict[str, str] | None = None,
            labels: dict[str, str] | None = None) -> tuple[str, str]:
    """Create (if needed, with `driver_opts` and `labels`: `--mount volume-opt=,volume-label=`), mount
    (if it has options), register the container, copy up. Options differing from an existing
    volume's are a Conflict."""
    anonymous = not name
    if name:
        check_name(name)
    else:
        name = secrets.token_hex(32)
    opts = {str(k): str(v) for k, v in (driver_opts or {}).items()}
    _check_opts(opts)
    with locked(ctx, LOCK):
        rec = _load(ctx, name)
        if rec is None or opts:
            rec = _create_locked(ctx, name, "local", opts,
                                 {**(labels or {}), **({ANON_LABEL: ""} if anonymous else {})})
        data = _data(ctx, name)
        _mount(rec, data)
        (_dir(ctx, name) / "users").mkdir(exist_ok=True)
        (_dir(ctx, name) / "users" / container_id).touch()
        if (copy_from is not None and not nocopy and not os.path.islink(copy_from) and os.path.isdir(copy_from)
                and not any(os.scandir(data)) and not rec.get("BerthPopulated")):
            _copy_up(Path(copy_from), data)
            rec["BerthPopulated"] = True
            atomic_write_json(_dir(ctx, name) / "volume.json", rec)
    return name, str(data)


def release(ctx: Context, name: str, container_id: str, remove_anonymous: bool = False) -> None:
    """The container is gone: drop it as a user; unmount an option volume nobody uses; remove an
    anonymous volume when asked and unused."""
    with locked(ctx, LOCK):
        rec = _load(ctx, name)
        if rec is None:
            return
        try:
            os.unlink(_dir(ctx, name) / "users" / container_id)
        except FileNotFoundError:
            pass
        left = os.listdir(_dir(ctx, name) / "users") if (_dir(ctx, name) / "users").exists() else []
        if not left:
            _umount(_data(ctx, name))
        if remove_anonymous and ANON_LABEL in (rec.get("Labels") or {}) and not users(ctx, name, container_id) \
                and not left:
            _remove_locked(ctx, rec)


def _remove_locked(ctx: Context, rec: dict) -> None:
    d = _dir(ctx, rec["Name"])
    _umount(d / "_data")
    if _is_mounted(d / "_data"):
        raise RuntimeFailure(f"volume {rec['Name']}: {d / '_data'} is still mounted", field="name")
    shutil.rmtree(d)


def remove(ctx: Context, name: str, force: bool = False) -> None:
    with locked(ctx, LOCK):
        rec = _load(ctx, name)
        if rec is None:
            if force:
                return
            raise NotFound(f"volume {name} not found", field="name")
        in_use = users(ctx, name)
        if in_use:
            raise Conflict(f"volume {name} is in use by container(s): {', '.join(in_use)}", field="name")
        _remove_locked(ctx, rec)


def _size(path: Path) -> int:
    total = 0
    for dp, _dn, fn in os.walk(path):
        for f in fn:
            try:
                total += os.lstat(os.path.join(dp, f)).st_size
            except OSError:
                pass
    return total


def prune(ctx: Context, all: bool = False, filters: dict[str, list[str]] | None = None) -> tuple[list[str], int]:
    """Remove unused volumes: anonymous ones only, or every unused one with all=True."""
    removed, space = [], 0
    for rec in list_all(ctx):
        labels = rec.get("Labels") or {}
        if not all and ANON_LABEL not in labels:
            continue
        if not _labels_match(labels, (filters or {}).get("label")):
            continue
        with locked(ctx, LOCK):
            if users(ctx, rec["Name"]):
                continue
            space += _size(_data(ctx, rec["Name"]))
            _remove_locked(ctx, rec)
        removed.append(rec["Name"])
    return removed, space


def _labels_match(labels: dict[str, Any], wanted: list[str] | None) -> bool:
    for w in wanted or []:
        k, eq, v = w.partition("=")
        if k not in labels or (eq and labels[k] != v):
            return False
    return True
