"""The one nftables table of an engine instance.

The table is a pure function of Berth's state (network records + running containers'
endpoints and published ports): every change renders the whole table and replaces it in one
atomic `nft -f -` transaction (`add table; delete table; table {...}`). Chain names derive from
the network ID (`nat-<id12>`, `fwd-<id12>`) and the container ID (`ctr-<id12>`), so what a
network or container added is always identifiable. With nothing left, the table is deleted.

NAT lives in the `inet` family (nat chains in inet tables, kernel >= 5.2)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from engine.errors import RuntimeFailure

if TYPE_CHECKING:
    from engine.context import Context


def _q(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def render(table: str, networks: list[dict], containers: list[dict]) -> str:
    """networks: [{id, bridge, subnet, internal}] with at least one endpoint;
    containers: [{id, ports: [{proto, host_ip, host_port, container_ip, container_port}]}]."""
    if not networks and not any(c.get("ports") for c in containers):
        return ""
    L: list[str] = [f"table inet {table} {{"]
    bridges = sorted({n["bridge"] for n in networks})
    if bridges:
        L += ["  set bridges {", "    type ifname", f"    elements = {{ {', '.join(_q(b) for b in bridges)} }}",
              "  }"]
    L += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;",
          "    fib daddr type local jump ports", "  }",
          "  chain output {", "    type nat hook output priority -100; policy accept;",
          "    fib daddr type local jump ports", "  }",
          "  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"]
    for n in networks:
        L.append(f"    jump nat-{n['id'][:12]}")
    L += ["  }", "  chain forward {", "    type filter hook forward priority filter; policy accept;",
          "    ct state established,related accept"]
    # internal networks' drops first; then published ports, reachable from every network;
    # then the isolation of the other networks from each other
    for n in networks:
        if n["internal"]:
            L.append(f"    jump fwd-{n['id'][:12]}")
    if bridges:
        L.append("    oifname @bridges ct status dnat accept")
    for n in networks:
        if not n["internal"]:
            L.append(f"    jump fwd-{n['id'][:12]}")
    L += ["  }", "  chain ports {"]
    for c in containers:
        if c.get("ports"):
            L.append(f"    jump ctr-{c['id'][:12]}")
    L.append("  }")
    for n in networks:
        br, sub = _q(n["bridge"]), n["subnet"]
        L.append(f"  chain nat-{n['id'][:12]} {{")
        # published ports reached through 127.0.0.1 (route_localnet) and hairpin traffic
        L.append(f"    oifname {br} ip saddr 127.0.0.0/8 masquerade")
        L.append(f"    oifname {br} ip saddr {sub} ct status dnat masquerade")
        if not n["internal"]:
            L.append(f"    ip saddr {sub} oifname != {br} masquerade")
        L.append("  }")
        L.append(f"  chain fwd-{n['id'][:12]} {{")
        if n["internal"]:
            L.append(f"    iifname {br} oifname != {br} drop")
            L.append(f"    oifname {br} iifname != {br} drop")
        else:
            # otherwise networks are isolated from each other, as with Docker's DOCKER-ISOLATION
            L.append(f"    iifname {br} oifname != {br} oifname @bridges drop")
            L.append(f"    iifname {br} accept")
        L.append("  }")
    for c in containers:
        if not c.get("ports"):
            continue
        L.append(f"  chain ctr-{c['id'][:12]} {{")
        for p in c["ports"]:
            match = ""
            if p["host_ip"] and p["host_ip"] != "0.0.0.0":
                match = f"ip daddr {p['host_ip']} "
            L.append(f"    {match}{p['proto']} dport {p['host_port']} "
                     f"dnat ip to {p['container_ip']}:{p['container_port']}")
        L.append("  }")
    L.append("}")
    return "\n".join(L) + "\n"


def desired(ctx: Context) -> str:
    from engine.networks import store

    nets = {r["Id"]: r for r in store.load_all(ctx)}
    used: dict[str, dict] = {}
    containers = []
    for st in store.all_states(ctx):
        for nid in st.get("Endpoints") or {}:
            rec = nets.get(nid)
            if rec and nid not in used:
                used[nid] = {"id": nid, "bridge": store.bridge_name(ctx, rec),
                             "subnet": rec["IPAM"]["Config"][0]["Subnet"], "internal": bool(rec.get("Internal"))}
        containers.append({"id": st["Id"], "ports": st.get("Ports") or []})
    return render(store.table_name(ctx), sorted(used.values(), key=lambda n: n["id"]), containers)


def apply(ctx: Context, text: str | None = None) -> None:
    """Replace the table with what the state says, in one transaction. Call under the lock."""
    from engine.networks import store

    table = store.table_name(ctx)
    if text is None:
        text = desired(ctx)
    batch = f"add table inet {table}\ndelete table inet {table}\n" + text
    p = subprocess.run(["nft", "-f", "-"], input=batch, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeFailure(f"nft rejected the ruleset of table inet {table}: {p.stderr.strip()}",
                             field="network")


def current(ctx: Context) -> str:
    from engine.networks import store

    p = subprocess.run(["nft", "list", "table", "inet", store.table_name(ctx)], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else ""
