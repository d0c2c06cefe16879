"""Helpers for network tests: a second "host" (a network namespace joined to this host by a
veth pair) and snapshots of the kernel objects Berth may leave behind."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


def sh(*argv: str, check: bool = True, timeout: float = 30, **kw) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {p.returncode}: {p.stdout} {p.stderr}")
    return p


@dataclass
class OtherHost:
    netns: str
    address: str  # the other host's address
    host_address: str  # this host's address on the link between them

    def run(self, *argv: str, check: bool = False, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return sh("ip", "netns", "exec", self.netns, *argv, check=check, timeout=timeout)


@pytest.fixture
def other_host() -> Iterator[OtherHost]:
    tag = secrets.token_hex(3)
    ns, a, b = f"berthpeer{tag}", f"bpa{tag}", f"bpb{tag}"
    octet = int(tag[:2], 16) % 200 + 20
    mine, theirs = f"10.251.{octet}.1", f"10.251.{octet}.2"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", b, "netns", ns)
        sh("ip", "addr", "add", f"{mine}/30", "dev", a)
        sh("ip", "link", "set", a, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{theirs}/30", "dev", b)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", b, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        # deliberately no route back to container subnets: replies rely on Berth's NAT
        yield OtherHost(ns, theirs, mine)
    finally:
        sh("ip", "link", "del", a, check=False)
        sh("ip", "netns", "del", ns, check=False)


def _alias(link: str) -> str:
    try:
        with open(f"/sys/class/net/{link}/ifalias") as f:
            return f.read().strip()
    except OSError:
        return ""


def snapshot(base: str) -> dict[str, object]:
    """Links, mounts, netns and nft tables of the Berth host whose files live under `base`
    (links carry the owning root in their ifalias; other hosts may run tests at the same time)."""
    links = sorted(n for n in os.listdir("/sys/class/net") if _alias(n).startswith(f"berth {base}/"))
    with open("/proc/self/mountinfo") as f:
        mounts = [ln.split()[4] for ln in f]
    tables = json.loads(sh("nft", "-j", "list", "tables").stdout or '{"nftables": []}')["nftables"]
    table = "berth_" + hashlib.sha256(f"{base}/root".encode()).hexdigest()[:8]
    return {
        "links": links,
        "mounts": sorted(m for m in mounts if m.startswith(base)),
        "nsfs": sum(1 for m in mounts if m.startswith(base) and "/netns/" in m),
        "tables": sorted(t["table"]["name"] for t in tables if "table" in t and t["table"]["name"] == table),
    }


def free_port(proto: str = "tcp") -> int:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def host_address() -> str:
    out = json.loads(sh("ip", "-j", "-4", "addr", "show", "scope", "global").stdout)
    for link in out:
        if link["ifname"].startswith(("vb", "br-", "berth", "bp", "docker")):
            continue
        for a in link.get("addr_info", []):
            return a["local"]
    raise AssertionError("no global IPv4 address on this host")
