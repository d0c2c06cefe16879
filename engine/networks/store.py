"""Network records (persistent, `<root>/networks/<id>.json`) and per-container runtime state
(`<runroot>/net/<container id>.json`: netns, endpoints, published ports).

Every read-modify-write happens under the one `networks` lock of the engine instance."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.context import DEFAULT_ROOT
from engine.errors import Conflict, InvalidArgument, NotFound
from engine.util.fs import atomic_write_json, read_json

if TYPE_CHECKING:
    from engine.context import Context

LOCK = "networks"
PREDEFINED = ("bridge", "host", "none")
DRIVERS = {"bridge": "bridge", "host": "host", "none": "null"}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"


def new_id() -> str:
    return secrets.token_hex(32)


def _root_tag(ctx: Context) -> str:
    return hashlib.sha256(str(ctx.root).encode()).hexdigest()[:8]


def table_name(ctx: Context) -> str:
    """The one nftables table of this engine instance (a second --root gets its own)."""
    return "berth" if str(ctx.root) == DEFAULT_ROOT else f"berth_{_root_tag(ctx)}"


def link_alias(ctx: Context) -> str:
    """The ifalias of every link Berth makes: which engine instance owns it (`ip link` shows it)."""
    return f"berth {ctx.root}"[:255]


def bridge_name(ctx: Context, rec: dict) -> str:
    opt = (rec.get("Options") or {}).get("com.docker.network.bridge.name")
    if opt:
        return str(opt)
    if rec["Name"] == "bridge" and str(ctx.root) == DEFAULT_ROOT:
        return "berth0"
    return "br-" + rec["Id"][:12]


def veth_name(container_id: str, network_id: str) -> str:
    return "vb" + hashlib.sha256((container_id + network_id).encode()).hexdigest()[:11]


# --- network records

def _path(ctx: Context, net_id: str) -> Path:
    return ctx.networks_dir / f"{net_id}.json"


def load_all(ctx: Context) -> list[dict]:
    out = []
    try:
        names = sorted(os.listdir(ctx.networks_dir))
    except FileNotFoundError:
        return []
    for n in names:
        if n.endswith(".json") and not n.startswith("."):
            rec = read_json(ctx.networks_dir / n)
            if rec:
                out.append(rec)
    return out


def find(ctx: Context, name_or_id: str) -> dict | None:
    recs = load_all(ctx)
    for r in recs:
        if r["Name"] == name_or_id or r["Id"] == name_or_id:
            return r
    hits = [r for r in recs if len(name_or_id) >= 3 and r["Id"].startswith(name_or_id)]
    if len(hits) > 1:
        raise InvalidArgument(f"network ID prefix {name_or_id!r} is ambiguous", field="network")
    return hits[0] if hits else None


def resolve(ctx: Context, name_or_id: str) -> dict:
    """Call `ensure_predefined` first (outside the lock) when a predefined name may be asked for."""
    rec = find(ctx, name_or_id)
    if rec is None:
        raise NotFound(f"network {name_or_id} not found", field="network")
    return rec


def save(ctx: Context, rec: dict) -> None:
    atomic_write_json(_path(ctx, rec["Id"]), rec)


def delete(ctx: Context, rec: dict) -> None:
    try:
        os.unlink(_path(ctx, rec["Id"]))
    except FileNotFoundError:
        pass


def make_record(name: str, driver: str, ipam_config: list[dict], internal: bool = False,
                attachable: bool = False, labels: dict | None = None, options: dict | None = None,
                ipam_auto: bool = False) -> dict:
    return {
        "Name": name, "Id": new_id(), "Created": now(), "Scope": "local", "Driver": driver,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": {}, "Config": ipam_config},
        "Internal": internal, "Attachable": attachable, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {},
        "Options": dict(options or {}), "Labels": dict(labels or {}),
        "BerthAutoSubnet": ipam_auto,
    }


def taken_subnets(ctx: Context, exclude: str | None = None) -> list:
    """Subnets Berth must not hand out: every routed prefix on the host and every network record."""
    import ipaddress

    from engine.networks import netlink

    taken = list(netlink.routed_prefixes())
    for r in load_all(ctx):
        if r["Id"] == exclude:
            continue
        for c in r.get("IPAM", {}).get("Config") or []:
            if c.get("Subnet"):
                taken.append(ipaddress.ip_network(c["Subnet"]))
    return taken


def ensure_predefined(ctx: Context) -> None:
    """Create the records of `bridge`, `host` and `none` on first use (Docker's predefined ones)."""
    have = {r["Name"] for r in load_all(ctx)}
    if all(n in have for n in PREDEFINED):
        return
    from engine.util.lock import locked

    with locked(ctx, LOCK):
        have = {r["Name"] for r in load_all(ctx)}
        for name in PREDEFINED:
            if name in have:
                continue
            if name == "bridge":
                cfg, auto = default_bridge_config(ctx)
                rec = make_record("bridge", "bridge", [cfg], ipam_auto=auto,
                                  options={"com.docker.network.bridge.default_bridge": "true"})
            else:
                rec = make_record(name, DRIVERS[name], [])
            save(ctx, rec)


def default_bridge_config(ctx: Context) -> tuple[dict, bool]:
    from engine.networks import ipam

    if ctx.config.default_subnet:
        net = ipam.parse_subnet(ctx.config.default_subnet, "default_subnet")
        return {"Subnet": str(net), "Gateway": str(ipam.default_gateway(net))}, False
    net = ipam.pick_subnet(ctx.config.subnet_pool, ctx.config.subnet_size, taken_subnets(ctx))
    return {"Subnet": str(net), "Gateway": str(ipam.default_gateway(net))}, True


def check_name(name: str) -> None:
    import re

    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name or ""):
        raise InvalidArgument(f"invalid network name {name!r}: use letters, digits, '_', '.', '-'",
                              field="name")
    if name in PREDEFINED:
        raise Conflict(f"network name {name!r} is a pre-defined network", field="name")


# --- runtime state of containers

def state_dir(ctx: Context) -> Path:
    return ctx.runroot / "net"


def state_path(ctx: Context, cid: str) -> Path:
    return state_dir(ctx) / f"{cid}.json"


def load_state(ctx: Context, cid: str) -> dict | None:
    st = read_json(state_path(ctx, cid))
    return st


def save_state(ctx: Context, st: dict) -> None:
    atomic_write_json(state_path(ctx, st["Id"]), st)


def drop_state(ctx: Context, cid: str) -> None:
    try:
        os.unlink(state_path(ctx, cid))
    except FileNotFoundError:
        pass


def all_states(ctx: Context) -> list[dict]:
    out = []
    try:
        names = sorted(os.listdir(state_dir(ctx)))
    except FileNotFoundError:
        return []
    for n in names:
        if n.endswith(".json") and not n.startswith("."):
            try:
                st = read_json(state_dir(ctx) / n)
            except json.JSONDecodeError:
                continue
            if st:
                out.append(st)
    return out


def endpoints_of(ctx: Context, net_id: str) -> list[tuple[dict, dict]]:
    """(container state, endpoint) pairs attached to a network."""
    out = []
    for st in all_states(ctx):
        ep = (st.get("Endpoints") or {}).get(net_id)
        if ep:
            out.append((st, ep))
    return out


def container_records(ctx: Context) -> list[dict[str, Any]]:
    """Container records (containers area's files), read-only."""
    out = []
    try:
        ids = os.listdir(ctx.containers_dir)
    except FileNotFoundError:
        return []
    for cid in ids:
        rec = read_json(ctx.containers_dir / cid / "container.json")
        if isinstance(rec, dict):
            out.append(rec)
    return out


def find_container(ctx: Context, ref: str) -> dict:
    recs = container_records(ctx)
    for r in recs:
        if r.get("Id") == ref or str(r.get("Name", "")).lstrip("/") == ref.lstrip("/"):
            return r
    hits = [r for r in recs if str(r.get("Id", "")).startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    raise NotFound(f"container {ref} not found", field="container")
