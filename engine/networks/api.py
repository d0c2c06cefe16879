"""Entry points of the networks area (see docs/interfaces.md, "Networks and volumes").

Containers call `validate` at create, `setup` before runc starts the container and `teardown`
after its processes are gone. The CLI verbs (engine/cli/network_cmds.py) and `berth apply` use
`create`, `remove`, `prune`, `connect`, `disconnect`, `inspect`, `list_all`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import BerthError, Conflict, InvalidArgument, NotFound
from engine.networks import store
from engine.util.lock import locked

if TYPE_CHECKING:
    from engine.context import Context


# --- records: create / read / remove

def create(ctx: Context, name: str, options: dict[str, Any] | None = None) -> str:
    """Create a network from a Docker `POST /networks/create` body (Driver, Internal, Attachable,
    Labels, Options, IPAM.Config[{Subnet, Gateway, IPRange}]). Returns its ID."""
    from engine.networks import ipam

    o = dict(options or {})
    store.check_name(name)
    store.ensure_predefined(ctx)
    driver = o.get("Driver") or "bridge"
    if driver != "bridge":
        raise InvalidArgument(f"invalid driver {driver!r}: only 'bridge' networks can be created",
                              field="driver")
    if o.get("EnableIPv6"):
        raise InvalidArgument("invalid enable_ipv6 true: IPv6 networks are not supported", field="enable_ipv6")
    cfgs = (o.get("IPAM") or {}).get("Config") or []
    if len(cfgs) > 1:
        raise InvalidArgument("invalid ipam_config: only one IPv4 subnet per network is supported",
                              field="ipam_config")
    c = cfgs[0] if cfgs else {}
    if (c.get("Gateway") or c.get("IPRange")) and not c.get("Subnet"):
        raise InvalidArgument("invalid ipam_config: gateway and ip_range need a subnet", field="subnet")
    bname = (o.get("Options") or {}).get("com.docker.network.bridge.name")
    if bname is not None and not (0 < len(bname) <= 15 and all(ch.isalnum() or ch in "-_." for ch in bname)):
        raise InvalidArgument(f"invalid com.docker.network.bridge.name {bname!r}: 1-15 letters, digits, -_.",
                              field="driver_options")
    with locked(ctx, store.LOCK):
        if store.find(ctx, name) is not None:
            raise Conflict(f"network with name {name} already exists", field="name")
        if c.get("Subnet"):
            net = ipam.parse_subnet(c["Subnet"], "subnet")
            for other in store.load_all(ctx):
                for oc in other.get("IPAM", {}).get("Config") or []:
                    if oc.get("Subnet") and net.overlaps(ipam.parse_subnet(oc["Subnet"])):
                        raise Conflict(f"subnet {net} overlaps subnet {oc['Subnet']} of network {other['Name']}",
                                       field="subnet")
            gw, rng = ipam.check_config(net, c.get("Gateway"), c.get("IPRange"))
            auto = False
        else:
            net = ipam.pick_subnet(ctx.config.subnet_pool, ctx.config.subnet_size, store.taken_subnets(ctx))
            gw, rng, auto = str(ipam.default_gateway(net)), None, True
        conf: dict[str, str] = {"Subnet": str(net), "Gateway": gw}
        if rng:
            conf["IPRange"] = rng
        if bname and any(store.bridge_name(ctx, r) == bname for r in store.load_all(ctx)):
            raise Conflict(f"bridge name {bname} is already used by another network", field="driver_options")
        rec = store.make_record(name, "bridge", [conf], internal=bool(o.get("Internal")),
                                attachable=bool(o.get("Attachable")), labels=o.get("Labels") or {},
                                options=o.get("Options") or {}, ipam_auto=auto)
        store.save(ctx, rec)
    return rec["Id"]


def _public(ctx: Context, rec: dict) -> dict:
    out = {k: v for k, v in rec.items() if not k.startswith("Berth")}
    conts = {}
    for st, ep in store.endpoints_of(ctx, rec["Id"]):
        conts[st["Id"]] = {"Name": st["Name"], "EndpointID": ep["EndpointID"], "MacAddress": ep["MacAddress"],
                           "IPv4Address": f"{ep['IPAddress']}/{ep['IPPrefixLen']}" if ep["IPAddress"] else "",
                           "IPv6Address": ""}
    out["Containers"] = conts
    return out


def inspect(ctx: Context, name_or_id: str) -> dict:
    store.ensure_predefined(ctx)
    return _public(ctx, store.resolve(ctx, name_or_id))


def list_all(ctx: Context) -> list[dict]:
    store.ensure_predefined(ctx)
    return [_public(ctx, r) for r in sorted(store.load_all(ctx), key=lambda r: r["Name"])]


def users(ctx: Context, rec: dict) -> list[str]:
    """Names of containers attached to the network, running or configured to join it."""
    names = {st["Name"] for st, _ in store.endpoints_of(ctx, rec["Id"])}
    for c in store.container_records(ctx):
        for n in _wanted_networks(c):
            if n in (rec["Name"], rec["Id"]) or (len(n) >= 12 and rec["Id"].startswith(n)):
                names.add(str(c.get("Name", "")).lstrip("/"))
    return sorted(names)


def remove(ctx: Context, name_or_id: str) -> dict:
    store.ensure_predefined(ctx)
    with locked(ctx, store.LOCK):
        rec = store.resolve(ctx, name_or_id)
        if rec["Name"] in store.PREDEFINED:
            raise Conflict(f"{rec['Name']} is a pre-defined network and cannot be removed", field="name")
        in_use = users(ctx, rec)
        if in_use:
            raise Conflict(f"network {rec['Name']} is in use by container(s): {', '.join(in_use)}", field="name")
        from engine.networks import netlink

        br = store.bridge_name(ctx, rec)
        if netlink.link_exists(br):
            netlink.delete_link(br)
        store.delete(ctx, rec)
    return rec


def sweep(ctx: Context) -> None:
    """Remove kernel objects of this engine root that no container state accounts for (left by
    a crash): links tagged with this root, netns files without state, and stale rules."""
    from engine.networks import firewall, netlink

    with locked(ctx, store.LOCK):
        states = store.all_states(ctx)
        known = {st["Id"] for st in states}
        used = {n for st in states for ep in (st.get("Endpoints") or {}).values() for n in (ep["HostIf"], ep["Bridge"])}
        alias = store.link_alias(ctx)
        for name in sorted(os.listdir("/sys/class/net"), key=lambda n: not n.startswith("vb")):
            try:
                with open(f"/sys/class/net/{name}/ifalias") as f:
                    tag = f.read().strip()
            except OSError:
                continue
            if tag == alias and name not in used:
                netlink.delete_link(name)
        if ctx.netns_dir.is_dir():
            for f in os.listdir(ctx.netns_dir):
                if f not in known:
                    netlink.remove_netns(ctx.netns_dir / f)
        firewall.apply(ctx)


def prune(ctx: Context, filters: dict[str, list[str]] | None = None) -> list[str]:
    sweep(ctx)
    removed = []
    for rec in store.load_all(ctx):
        if rec["Name"] in store.PREDEFINED or not _label_match(rec, (filters or {}).get("label")):
            continue
        try:
            remove(ctx, rec["Id"])
            removed.append(rec["Name"])
        except Conflict:
            continue
    return sorted(removed)


def _label_match(rec: dict, wanted: list[str] | None) -> bool:
    labels = rec.get("Labels") or {}
    for w in wanted or []:
        k, eq, v = w.partition("=")
        if k not in labels or (eq and labels[k] != v):
            return False
    return True


# --- what a container asks for

def _mode(record: dict) -> str:
    m = (record.get("HostConfig") or {}).get("NetworkMode") or "default"
    return "bridge" if m == "default" else m


def _cfg(record: dict) -> dict:
    return record.get("Config") if isinstance(record.get("Config"), dict) else record


def _endpoints_config(record: dict) -> dict:
    return ((record.get("NetworkingConfig") or {}).get("EndpointsConfig")) or {}


def _wanted_networks(record: dict) -> list[str]:
    mode = _mode(record)
    out = []
    if mode not in ("host", "none") and not mode.startswith("container:"):
        out.append(mode)
    for n in _endpoints_config(record):
        if n not in out:
            out.append(n)
    return out


def _endpoint_request(record: dict, net: dict, primary: bool) -> tuple[list[str], str | None, str | None]:
    ec = _endpoints_config(record)
    req = ec.get(net["Name"]) or ec.get(net["Id"]) or {}
    aliases = list(req.get("Aliases") or [])
    ip = ((req.get("IPAMConfig") or {}).get("IPv4Address")) or None
    mac = req.get("MacAddress") or (_cfg(record).get("MacAddress") if primary else None) or None
    return aliases, ip, mac


def _check_endpoint(net: dict, aliases: list[str], ip: str | None, mac: str | None) -> None:
    from engine.networks import ipam

    user = net["Name"] not in store.PREDEFINED
    if ip:
        if not user or net.get("BerthAutoSubnet"):
            raise InvalidArgument(f"invalid ip {ip!r} on network {net['Name']}: a user-specified address needs a "
                                  "user-defined network with a configured subnet", field="ip")
        ipam.allocate(net["IPAM"]["Config"][0]["Subnet"], net["IPAM"]["Config"][0]["Gateway"], None, [], ip)
    if aliases and not user:
        raise InvalidArgument(f"invalid aliases {aliases!r}: network-scoped aliases need a user-defined network",
                              field="aliases")
    if mac:
        ipam.parse_mac(mac)


def validate(ctx: Context, body: dict) -> None:
    """Check a container create body without changing anything."""
    from engine.networks import hostsfile, ports

    store.ensure_predefined(ctx)
    hc = body.get("HostConfig") or {}
    mode = _mode(body)
    want = ports.requested(hc.get("PortBindings"), bool(hc.get("PublishAllPorts")), _cfg(body).get("ExposedPorts"))
    for proto, _ip, spec, _cport in want:
        if spec:
            ports._port(spec, "host port", f"{spec}/{proto}")
    if mode.startswith("container:"):
        if hc.get("PortBindings") or hc.get("PublishAllPorts"):
            raise InvalidArgument(f"invalid network_mode {mode!r}: conflicts with published ports",
                                  field="published_ports")
        if _endpoints_config(body):
            raise InvalidArgument(f"invalid network_mode {mode!r}: conflicts with networks", field="networks")
        target = mode.split(":", 1)[1]
        if not target:
            raise InvalidArgument("invalid network_mode 'container:': no container named", field="network_mode")
    elif mode in ("host", "none") and [n for n in _endpoints_config(body) if n != mode]:
        raise InvalidArgument(f"invalid networks: a container with network_mode {mode} cannot join other networks",
                              field="networks")
    for i, n in enumerate(_wanted_networks(body)):
        net = store.resolve(ctx, n)
        aliases, ip, mac = _endpoint_request(body, net, i == 0)
        _check_endpoint(net, aliases, ip, mac)
    hostsfile.parse_extra_hosts(hc.get("ExtraHosts"), "127.0.0.1")
    hostsfile.render_resolv("", hc.get("Dns"), hc.get("DnsSearch"), hc.get("DnsOptions"))


# --- setup / teardown

def _hostname(record: dict) -> str:
    return _cfg(record).get("Hostname") or record["Id"][:12]


def _sandbox(ctx: Context, cid: str) -> Path:
    return ctx.netns_dir / cid


def _settings(ctx: Context, st: dict) -> dict:
    nets = {}
    for nid in st.get("Order") or []:
        ep = st["Endpoints"].get(nid)
        if ep:
            nets[ep["NetworkName"]] = _ep_public(ep)
    for name, nid in (st.get("Special") or {}).items():
        nets[name] = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
                      "NetworkID": nid, "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
                      "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}
    default = nets.get("bridge") or {}
    from engine.networks.ports import Binding, to_docker

    binds = [Binding(p["proto"], p["host_ip"], p["host_port"], p["container_port"]) for p in st.get("Ports") or []]
    return {"Bridge": "", "SandboxID": st.get("SandboxID", ""), "SandboxKey": st.get("Netns", ""),
            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": to_docker(binds, st.get("Exposed")),
            "IPAddress": default.get("IPAddress", ""), "IPPrefixLen": default.get("IPPrefixLen", 0),
            "Gateway": default.get("Gateway", ""), "MacAddress": default.get("MacAddress", ""),
            "Networks": nets}


def _ep_public(ep: dict) -> dict:
    return {"IPAMConfig": {"IPv4Address": ep["IPAddress"]} if ep.get("Static") else None, "Links": None,
            "Aliases": ep.get("Aliases") or None, "MacAddress": ep["MacAddress"], "DriverOpts": None,
            "NetworkID": ep["NetworkID"], "EndpointID": ep["EndpointID"], "Gateway": ep["Gateway"],
            "IPAddress": ep["IPAddress"], "IPPrefixLen": ep["IPPrefixLen"], "IPv6Gateway": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": ep.get("DNSNames")}


def setup(ctx: Context, record: dict) -> dict:
    """Wire the container's network; return its NetworkSettings. Nothing is left on failure."""
    from engine.networks import netlink

    cid = record["Id"]
    mode = _mode(record)
    store.ensure_predefined(ctx)
    with locked(ctx, store.LOCK):
        if store.load_state(ctx, cid) is not None or netlink.is_netns(_sandbox(ctx, cid)):
            _teardown_locked(ctx, cid)
        try:
            st = _setup_locked(ctx, record, mode)
        except BaseException:
            try:
                _teardown_locked(ctx, cid)
            except BerthError:
                pass
            raise
        return _settings(ctx, st)


def _base_state(record: dict, mode: str) -> dict:
    hc = record.get("HostConfig") or {}
    return {"Id": record["Id"], "Name": str(record.get("Name") or record["Id"][:12]).lstrip("/"),
            "Hostname": _hostname(record), "Domainname": _cfg(record).get("Domainname") or "",
            "Mode": mode, "Netns": "", "SandboxID": "", "Endpoints": {}, "Order": [], "Special": {}, "Ports": [],
            "Exposed": _cfg(record).get("ExposedPorts") or {}, "ExtraHosts": list(hc.get("ExtraHosts") or [])}


def _setup_locked(ctx: Context, record: dict, mode: str) -> dict:
    import secrets

    from engine.networks import hostsfile, netlink

    cid = record["Id"]
    hc = record.get("HostConfig") or {}
    cdir = ctx.containers_dir / cid
    cdir.mkdir(parents=True, exist_ok=True)
    st = _base_state(record, mode)
    host_resolv = _read("/etc/resolv.conf")
    if mode == "host":
        st["Special"] = {"host": store.resolve(ctx, "host")["Id"]}
        extra = hostsfile.parse_extra_hosts(hc.get("ExtraHosts"), "127.0.0.1")
        hosts = _read("/etc/hosts") + "".join(f"{ip}\t{n}\n" for n, ip in extra)
        hostsfile.write_in_place(cdir / "hosts", hosts)
        hostsfile.write_in_place(cdir / "resolv.conf", hostsfile.render_resolv(
            host_resolv, hc.get("Dns"), hc.get("DnsSearch"), hc.get("DnsOptions"), keep_loopback=True))
        store.save_state(ctx, st)
        return st
    if mode.startswith("container:"):
        target = store.find_container(ctx, mode.split(":", 1)[1])
        tst = store.load_state(ctx, target["Id"])
        netns = (tst or {}).get("Netns", "")
        if tst is None:
            # a sandbox Berth did not make (e.g. runc's own for `none`): the process's namespace
            pid = int(((target.get("State") or {}).get("Pid")) or 0)
            if pid > 0 and os.path.exists(f"/proc/{pid}/ns/net"):
                netns = f"/proc/{pid}/ns/net"
        if not netns and (tst or {}).get("Mode") != "host":
            raise Conflict(f"cannot join the network of container {mode.split(':', 1)[1]}: it is not running",
                           field="network_mode")
        st["Netns"] = netns
        st["Target"] = target["Id"]
        tdir = ctx.containers_dir / target["Id"]
        for f in ("hosts", "resolv.conf"):
            hostsfile.write_in_place(cdir / f, _read(tdir / f))
        store.save_state(ctx, st)
        return st
    # a sandbox of our own: none, bridge, user networks
    hostsfile.write_in_place(cdir / "resolv.conf", hostsfile.render_resolv(
        host_resolv, hc.get("Dns"), hc.get("DnsSearch"), hc.get("DnsOptions")))
    ns = _sandbox(ctx, cid)
    st["Netns"] = str(ns)
    st["SandboxID"] = secrets.token_hex(32)
    store.save_state(ctx, st)  # from here on, teardown can find what we make
    netlink.create_netns(ns)
    if mode == "none":
        st["Special"] = {"none": store.resolve(ctx, "none")["Id"]}
    else:
        nets = []
        for n in _wanted_networks(record):
            net = store.resolve(ctx, n)
            if net["Driver"] != "bridge":
                raise InvalidArgument(f"invalid networks: {net['Name']} ({net['Driver']}) cannot be combined "
                                      "with other networks", field="networks")
            if net["Id"] not in [x["Id"] for x in nets]:
                nets.append(net)
        for i, net in enumerate(nets):
            aliases, ip, mac = _endpoint_request(record, net, i == 0)
            _check_endpoint(net, aliases, ip, mac)
            _attach(ctx, st, net, aliases, ip, mac)
        _publish(ctx, st, record)
    store.save_state(ctx, st)
    if st["Endpoints"]:
        from engine.networks import firewall

        firewall.apply(ctx)
    _write_hosts(ctx, st)
    for nid in st["Order"]:
        _refresh_peers(ctx, nid, exclude=cid)
    return st


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return ""


def _bring_up(ctx: Context, net: dict) -> dict:
    """Make sure the bridge of `net` exists; an automatic subnet that now collides with a host
    route is chosen again while nothing uses the network."""
    import ipaddress

    from engine.networks import ipam, netlink

    br = store.bridge_name(ctx, net)
    conf = net["IPAM"]["Config"][0]
    if not netlink.link_exists(br):
        sub = ipaddress.ip_network(conf["Subnet"])
        routed = netlink.routed_prefixes()
        if any(sub.overlaps(r) for r in routed):
            if net.get("BerthAutoSubnet") and not store.endpoints_of(ctx, net["Id"]):
                new = ipam.pick_subnet(ctx.config.subnet_pool, ctx.config.subnet_size,
                                       store.taken_subnets(ctx, exclude=net["Id"]))
                conf.update({"Subnet": str(new), "Gateway": str(ipam.default_gateway(new))})
                store.save(ctx, net)
            else:
                raise Conflict(f"subnet {sub} of network {net['Name']} overlaps a route on this host",
                               field="subnet")
        netlink.ensure_bridge(br, conf["Gateway"], int(conf["Subnet"].split("/")[1]), store.link_alias(ctx))
    if not net.get("Internal"):
        netlink.enable_forwarding()
    return net


def _attach(ctx: Context, st: dict, net: dict, aliases: list[str], ip: str | None, mac: str | None) -> dict:
    import secrets

    from engine.networks import ipam, netlink

    if net["Id"] in st["Endpoints"]:
        raise Conflict(f"container {st['Name']} is already attached to network {net['Name']}", field="network")
    net = _bring_up(ctx, net)
    conf = net["IPAM"]["Config"][0]
    used = [ep["IPAddress"] for _, ep in store.endpoints_of(ctx, net["Id"])]
    addr = ipam.allocate(conf["Subnet"], conf["Gateway"], conf.get("IPRange"), used, ip)
    plen = int(conf["Subnet"].split("/")[1])
    mac = ipam.parse_mac(mac) if mac else ipam.mac_for(addr)
    used_if = {ep["IfName"] for ep in st["Endpoints"].values()}
    ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used_if)
    host_if = store.veth_name(st["Id"], net["Id"])
    has_default = any(not ep.get("Internal") for ep in st["Endpoints"].values())
    gateway = None if net.get("Internal") or has_default else conf["Gateway"]
    user = net["Name"] not in store.PREDEFINED
    ep = {"NetworkID": net["Id"], "NetworkName": net["Name"], "EndpointID": secrets.token_hex(32),
          "IPAddress": addr, "IPPrefixLen": plen, "Gateway": conf["Gateway"], "MacAddress": mac,
          "Aliases": aliases, "Static": bool(ip), "IfName": ifname, "HostIf": host_if,
          "Bridge": store.bridge_name(ctx, net), "Internal": bool(net.get("Internal")), "User": user,
          "DNSNames": [st["Name"], *aliases, st["Id"][:12], st["Hostname"]] if user else None}
    # record first, so a failure below is undone by teardown
    st["Endpoints"][net["Id"]] = ep
    st["Order"].append(net["Id"])
    store.save_state(ctx, st)
    netlink.add_endpoint(Path(st["Netns"]), host_if, ifname, ep["Bridge"], mac, addr, plen, gateway,
                         store.link_alias(ctx))
    return ep


def _publish(ctx: Context, st: dict, record: dict) -> None:
    from engine.networks import ports

    hc = record.get("HostConfig") or {}
    want = ports.requested(hc.get("PortBindings"), bool(hc.get("PublishAllPorts")), _cfg(record).get("ExposedPorts"))
    if not want:
        return
    primary = next((st["Endpoints"][n] for n in st["Order"] if not st["Endpoints"][n].get("Internal")), None)
    if primary is None:
        return
    taken = [(p["proto"], p["host_ip"], p["host_port"], f"container {o['Name']}")
             for o in store.all_states(ctx) if o["Id"] != st["Id"] for p in o.get("Ports") or []]
    binds = ports.resolve(want, taken)
    st["Ports"] = [{"proto": b.proto, "host_ip": b.host_ip, "host_port": b.host_port,
                    "container_port": b.container_port, "container_ip": primary["IPAddress"]} for b in binds]


def _names(st: dict, ep: dict) -> list[str]:
    return [st["Name"], *(ep.get("Aliases") or []), st["Id"][:12]]


def _hosts_text(ctx: Context, st: dict) -> str:
    from engine.networks import hostsfile

    gw = next((ep["Gateway"] for ep in st["Endpoints"].values()), None)
    extra = hostsfile.parse_extra_hosts(st.get("ExtraHosts"), gw)
    fqdn = f"{st['Hostname']}.{st['Domainname']}" if st.get("Domainname") else ""
    own, peers = [], []
    seen_peer: set[tuple[str, str]] = set()
    for nid in st["Order"]:
        ep = st["Endpoints"][nid]
        names = [n for n in (fqdn, st["Hostname"]) if n]
        if ep.get("User"):
            names += _names(st, ep)
        own.append((ep["IPAddress"], names))
        if not ep.get("User"):
            continue
        for other, oep in store.endpoints_of(ctx, nid):
            if other["Id"] == st["Id"] or (other["Id"], nid) in seen_peer:
                continue
            seen_peer.add((other["Id"], nid))
            peers.append((oep["IPAddress"], _names(other, oep)))
    return hostsfile.render_hosts(own, extra, peers)


def _write_hosts(ctx: Context, st: dict) -> None:
    from engine.networks import hostsfile

    path = ctx.containers_dir / st["Id"] / "hosts"
    if not path.parent.is_dir():
        return
    text = _hosts_text(ctx, st)
    hostsfile.write_in_place(path, text)
    # containers sharing this one's network namespace (container:X) see the same hosts
    for other in store.all_states(ctx):
        if other.get("Target") == st["Id"] and (ctx.containers_dir / other["Id"]).is_dir():
            hostsfile.write_in_place(ctx.containers_dir / other["Id"] / "hosts", text)


def _refresh_peers(ctx: Context, nid: str, exclude: str | None = None) -> None:
    for other, ep in store.endpoints_of(ctx, nid):
        if other["Id"] != exclude and ep.get("User"):
            _write_hosts(ctx, other)


def teardown(ctx: Context, record: dict) -> None:
    """Undo `setup` for the container; safe to call any number of times."""
    with locked(ctx, store.LOCK):
        _teardown_locked(ctx, record["Id"])


def _detach(ctx: Context, st: dict, nid: str) -> None:
    from engine.networks import netlink

    ep = st["Endpoints"].get(nid)
    if not ep:
        return
    if netlink.link_exists(ep["HostIf"]):
        netlink.delete_link(ep["HostIf"])
    del st["Endpoints"][nid]
    st["Order"] = [n for n in st["Order"] if n != nid]
    st["Ports"] = [p for p in st.get("Ports") or [] if p["container_ip"] != ep["IPAddress"]]
    store.save_state(ctx, st)
    others = [o for o, _ in store.endpoints_of(ctx, nid) if o["Id"] != st["Id"]]
    if not others and netlink.link_exists(ep["Bridge"]) and not netlink.bridge_ports(ep["Bridge"]):
        netlink.delete_link(ep["Bridge"])


def _teardown_locked(ctx: Context, cid: str) -> None:
    from engine.networks import firewall, netlink

    st = store.load_state(ctx, cid)
    touched: list[str] = []
    if st:
        touched = list(st.get("Order") or [])
        for nid in list(st.get("Order") or []):
            _detach(ctx, st, nid)
    ns = _sandbox(ctx, cid)
    if st is None or st.get("Mode") not in ("host",) and not str(st.get("Mode", "")).startswith("container:"):
        if netlink.is_netns(ns) or ns.exists():
            netlink.remove_netns(ns)
    had_rules = bool(st and st.get("Ports")) or bool(touched)
    store.drop_state(ctx, cid)
    if had_rules:
        firewall.apply(ctx)
    for nid in touched:
        _refresh_peers(ctx, nid)


# --- live connect / disconnect

def _update_record(ctx: Context, cid: str, fn) -> None:
    from engine.util.fs import atomic_write_json, read_json

    path = ctx.containers_dir / cid / "container.json"
    rec = read_json(path)
    if rec is None:
        return
    fn(rec)
    atomic_write_json(path, rec)


def connect(ctx: Context, container: str, network: str, aliases: list[str] | None = None,
            ip: str | None = None, mac: str | None = None) -> dict:
    """Attach a container to a network: live when it runs, recorded for its next start."""
    rec = store.find_container(ctx, container)
    cid = rec["Id"]
    store.ensure_predefined(ctx)
    net = store.resolve(ctx, network)
    aliases = list(aliases or [])
    mode = _mode(rec)
    # a container whose every network was disconnected (its mode then reads `none`) may join
    # again, as in Docker; one created with --network none may not
    detached = mode == "none" and bool((rec.get("_berth") or {}).get("network_detached"))
    if (mode in ("host", "none") and not detached) or mode.startswith("container:") or net["Driver"] != "bridge":
        raise Conflict(f"container {container} (network_mode {mode}) cannot be connected to network "
                       f"{net['Name']}", field="network")
    _check_endpoint(net, aliases, ip, mac)
    with locked(ctx, f"container-{cid}"):
        rec = store.find_container(ctx, cid)
        if net["Name"] in _wanted_networks(rec) or net["Id"] in _wanted_networks(rec):
            raise Conflict(f"container {container} is already connected to network {net['Name']}",
                           field="network")
        result: dict = {}
        with locked(ctx, store.LOCK):
            st = store.load_state(ctx, cid)
            if st and st.get("Netns"):
                from engine.networks import firewall

                try:
                    ep = _attach(ctx, st, net, aliases, ip, mac)
                except BaseException:
                    _detach(ctx, st, net["Id"])
                    raise
                firewall.apply(ctx)
                _write_hosts(ctx, st)
                _refresh_peers(ctx, net["Id"], exclude=cid)
                result = _ep_public(ep)
        req: dict[str, Any] = {"Aliases": aliases or None,
                               "IPAMConfig": {"IPv4Address": ip} if ip else None, "MacAddress": mac or ""}

        def upd(r: dict) -> None:
            r.setdefault("NetworkingConfig", {}).setdefault("EndpointsConfig", {})
            if r["NetworkingConfig"]["EndpointsConfig"] is None:
                r["NetworkingConfig"]["EndpointsConfig"] = {}
            r["NetworkingConfig"]["EndpointsConfig"][net["Name"]] = req
            if (r.get("_berth") or {}).pop("network_detached", None):
                r.setdefault("HostConfig", {})["NetworkMode"] = net["Name"]
            if result:
                r.setdefault("NetworkSettings", {}).setdefault("Networks", {})[net["Name"]] = result

        _update_record(ctx, cid, upd)
    return result


def disconnect(ctx: Context, container: str, network: str, force: bool = False) -> None:
    rec = store.find_container(ctx, container)
    cid = rec["Id"]
    store.ensure_predefined(ctx)
    try:
        net = store.resolve(ctx, network)
    except NotFound:
        if not force:
            raise
        net = {"Name": network, "Id": network}
    with locked(ctx, f"container-{cid}"):
        rec = store.find_container(ctx, cid)
        wanted = _wanted_networks(rec)
        if net["Name"] not in wanted and net["Id"] not in wanted:
            if force:
                return
            raise Conflict(f"container {container} is not connected to network {net['Name']}", field="network")
        with locked(ctx, store.LOCK):
            st = store.load_state(ctx, cid)
            if st and net["Id"] in (st.get("Endpoints") or {}):
                from engine.networks import firewall

                _detach(ctx, st, net["Id"])
                firewall.apply(ctx)
                _write_hosts(ctx, st)
                _refresh_peers(ctx, net["Id"])

        def upd(r: dict) -> None:
            ec = (r.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
            ec.pop(net["Name"], None)
            ec.pop(net["Id"], None)
            nets = (r.get("NetworkSettings") or {}).get("Networks") or {}
            nets.pop(net["Name"], None)
            if _mode(r) in (net["Name"], net["Id"]):
                r.setdefault("HostConfig", {})["NetworkMode"] = next(iter(ec), "none") if ec else "none"
                if not ec:
                    r.setdefault("_berth", {})["network_detached"] = True

        _update_record(ctx, cid, upd)


def cleanup_host(ctx: Context) -> None:
    """Remove every kernel object of this engine instance (used by tests and uninstall)."""
    for st in store.all_states(ctx):
        teardown(ctx, st)
    with locked(ctx, store.LOCK):
        from engine.networks import firewall

        firewall.apply(ctx, "")
    shutil.rmtree(store.state_dir(ctx), ignore_errors=True)
