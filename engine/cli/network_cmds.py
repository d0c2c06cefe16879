"""`berth network ...` and `berth volume ...`, with docker's flags and output."""

from __future__ import annotations

import sys
from typing import Any

from engine.cli.common import Globals, add_format, emit_inspect, emit_rows, parser
from engine.errors import BerthError, InvalidArgument


def _kv(items: list[str] | None, field: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        k, eq, v = it.partition("=")
        if not k:
            raise InvalidArgument(f"invalid {field} {it!r}: expected key=value", field=field)
        out[k] = v
    return out


def _filters(items: list[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for it in items or []:
        k, eq, v = it.partition("=")
        if not eq:
            raise InvalidArgument(f"invalid filter {it!r}: expected key=value", field="filter")
        out.setdefault(k, []).append(v)
    return out


# `ls --format 'table ...'` column names, as docker prints them
NETWORK_COLUMNS = [("ID", "NETWORK ID"), ("Name", "NAME"), ("Driver", "DRIVER"), ("Scope", "SCOPE"),
                   ("CreatedAt", "CREATED AT"), ("IPv6", "IPV6"), ("Internal", "INTERNAL"), ("Labels", "LABELS")]
VOLUME_COLUMNS = [("Driver", "DRIVER"), ("Name", "VOLUME NAME"), ("Mountpoint", "MOUNTPOINT"), ("Scope", "SCOPE"),
                  ("Labels", "LABELS")]


def _labels(obj: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in (obj.get("Labels") or {}).items())


def run(verb: str, argv: list[str], g: Globals) -> int:
    return _network(argv, g) if verb == "network" else _volume(argv, g)


# ------------------------------------------------------------------ network

def _network(argv: list[str], g: Globals) -> int:
    p = parser("network", "Manage networks")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    c = sub.add_parser("create", help="Create a network")
    c.add_argument("name")
    c.add_argument("-d", "--driver", default="bridge")
    c.add_argument("--subnet", action="append")
    c.add_argument("--gateway", action="append")
    c.add_argument("--ip-range", action="append")
    c.add_argument("--internal", action="store_true")
    c.add_argument("--attachable", action="store_true")
    c.add_argument("--label", action="append")
    c.add_argument("-o", "--opt", action="append")
    c.add_argument("--ipv6", action="store_true")
    ls = sub.add_parser("ls", aliases=["list"], help="List networks")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.add_argument("-f", "--filter", action="append")
    ls.add_argument("--no-trunc", action="store_true")
    add_format(ls)
    i = sub.add_parser("inspect", help="Show networks as JSON")
    i.add_argument("names", nargs="+")
    add_format(i, inspect=True)
    r = sub.add_parser("rm", aliases=["remove"], help="Remove networks")
    r.add_argument("names", nargs="+")
    r.add_argument("-f", "--force", action="store_true")
    pr = sub.add_parser("prune", help="Remove unused networks")
    pr.add_argument("-f", "--force", action="store_true")
    pr.add_argument("--filter", action="append")
    cn = sub.add_parser("connect", help="Connect a container to a network")
    cn.add_argument("network")
    cn.add_argument("container")
    cn.add_argument("--alias", action="append")
    cn.add_argument("--ip")
    cn.add_argument("--mac-address")
    dc = sub.add_parser("disconnect", help="Disconnect a container from a network")
    dc.add_argument("network")
    dc.add_argument("container")
    dc.add_argument("-f", "--force", action="store_true")
    a = p.parse_args(argv)
    from engine.networks import api

    ctx = g.ctx
    if a.cmd == "create":
        if a.ipv6:
            raise InvalidArgument("invalid --ipv6: IPv6 networks are not supported", field="enable_ipv6")
        if len(a.subnet or []) > 1:
            raise InvalidArgument("invalid --subnet: only one subnet per network is supported", field="subnet")
        conf: dict[str, str] = {}
        if a.subnet:
            conf["Subnet"] = a.subnet[0]
        if a.gateway:
            conf["Gateway"] = a.gateway[0]
        if a.ip_range:
            conf["IPRange"] = a.ip_range[0]
        nid = api.create(ctx, a.name, {"Driver": a.driver, "Internal": a.internal, "Attachable": a.attachable,
                                       "Labels": _kv(a.label, "label"), "Options": _kv(a.opt, "opt"),
                                       "IPAM": {"Config": [conf] if conf else []}})
        print(nid)
        return 0
    if a.cmd in ("ls", "list"):
        f = _filters(a.filter)
        nets = []
        for n in api.list_all(ctx):
            if f.get("name") and not any(x in n["Name"] for x in f["name"]):
                continue
            if f.get("id") and not any(n["Id"].startswith(x) for x in f["id"]):
                continue
            if f.get("driver") and n["Driver"] not in f["driver"]:
                continue
            if f.get("label") and not api._label_match(n, f["label"]):
                continue
            if f.get("type"):
                pre = n["Name"] in ("bridge", "host", "none")
                if ("builtin" in f["type"]) != pre and ("custom" in f["type"]) == pre:
                    continue
            nets.append(n)
        nid = (lambda n: n["Id"]) if a.no_trunc else (lambda n: n["Id"][:12])
        if a.quiet:
            for n in nets:
                print(nid(n))
        else:
            emit_rows(a.format, [{"CreatedAt": n["Created"], "Driver": n["Driver"], "ID": nid(n), "IPv6": "false",
                                  "Internal": str(n["Internal"]).lower(), "Labels": _labels(n),
                                  "Name": n["Name"], "Scope": n["Scope"]} for n in nets], NETWORK_COLUMNS, 4)
        return 0
    if a.cmd == "inspect":
        return _inspect_many(api.inspect, ctx, a.names, a.format)
    if a.cmd in ("rm", "remove"):
        rc = 0
        for n in a.names:
            try:
                api.remove(ctx, n)
                print(n)
            except BerthError as e:
                if a.force and e.exit_code == 3:
                    continue
                print(f"Error: {e.message}", file=sys.stderr)
                rc = 1
        return rc
    if a.cmd == "prune":
        removed = api.prune(ctx, _filters(a.filter))
        if removed:
            print("Deleted Networks:")
            for n in removed:
                print(n)
        return 0
    if a.cmd == "connect":
        api.connect(ctx, a.container, a.network, aliases=a.alias, ip=a.ip, mac=a.mac_address)
        return 0
    if a.cmd == "disconnect":
        api.disconnect(ctx, a.container, a.network, force=a.force)
        return 0
    p.print_help(sys.stderr)
    return 2


def _inspect_many(fn: Any, ctx: Any, names: list[str], fmt: str | None) -> int:
    out, rc = [], 0
    for n in names:
        try:
            out.append(fn(ctx, n))
        except BerthError as e:
            print(f"Error: {e.message}", file=sys.stderr)
            rc = e.exit_code
    emit_inspect(out, fmt)
    return rc


# ------------------------------------------------------------------ volume

def _human(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:g}{unit}"
        n = round(n / 1000, 1)  # type: ignore[assignment]
    return f"{n}TB"


def _volume(argv: list[str], g: Globals) -> int:
    p = parser("volume", "Manage volumes")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    c = sub.add_parser("create", help="Create a volume")
    c.add_argument("name", nargs="?")
    c.add_argument("--name", dest="name_opt")
    c.add_argument("-d", "--driver", default="local")
    c.add_argument("-o", "--opt", action="append")
    c.add_argument("--label", action="append")
    ls = sub.add_parser("ls", aliases=["list"], help="List volumes")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.add_argument("-f", "--filter", action="append")
    add_format(ls)
    i = sub.add_parser("inspect", help="Show volumes as JSON")
    i.add_argument("names", nargs="+")
    add_format(i, inspect=True)
    r = sub.add_parser("rm", aliases=["remove"], help="Remove volumes")
    r.add_argument("names", nargs="+")
    r.add_argument("-f", "--force", action="store_true")
    pr = sub.add_parser("prune", help="Remove unused volumes (anonymous ones unless --all)")
    pr.add_argument("-a", "--all", action="store_true")
    pr.add_argument("-f", "--force", action="store_true")
    pr.add_argument("--filter", action="append")
    a = p.parse_args(argv)
    from engine.volumes import api

    ctx = g.ctx
    if a.cmd == "create":
        if a.name and a.name_opt and a.name != a.name_opt:
            raise InvalidArgument(f"conflicting volume names {a.name!r} and --name {a.name_opt!r}", field="name")
        rec = api.create(ctx, a.name or a.name_opt, a.driver, _kv(a.opt, "opt"), _kv(a.label, "label"))
        print(rec["Name"])
        return 0
    if a.cmd in ("ls", "list"):
        f = _filters(a.filter)
        vols = []
        for v in api.list_all(ctx):
            if f.get("name") and not any(x in v["Name"] for x in f["name"]):
                continue
            if f.get("label") and not api._labels_match(v.get("Labels") or {}, f["label"]):
                continue
            if f.get("dangling"):
                dangling = not api.users(ctx, v["Name"])
                if (f["dangling"][0] in ("true", "1")) != dangling:
                    continue
            vols.append(v)
        if a.quiet:
            for v in vols:
                print(v["Name"])
        else:
            emit_rows(a.format, [{"Driver": v["Driver"], "Labels": _labels(v), "Mountpoint": v["Mountpoint"],
                                  "Name": v["Name"], "Scope": v["Scope"]} for v in vols], VOLUME_COLUMNS, 2)
        return 0
    if a.cmd == "inspect":
        return _inspect_many(api.inspect, ctx, a.names, a.format)
    if a.cmd in ("rm", "remove"):
        rc = 0
        for n in a.names:
            try:
                api.remove(ctx, n, force=a.force)
                print(n)
            except BerthError as e:
                print(f"Error: {e.message}", file=sys.stderr)
                rc = 1
        return rc
    if a.cmd == "prune":
        removed, space = api.prune(ctx, all=a.all, filters=_filters(a.filter))
        if removed:
            print("Deleted Volumes:")
            for n in removed:
                print(n)
            print()
        print(f"Total reclaimed space: {_human(space)}")
        return 0
    p.print_help(sys.stderr)
    return 2
