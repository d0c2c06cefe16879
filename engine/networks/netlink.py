"""The kernel side of bridge networking through pyroute2 (imported here, lazily: only the
functions below pull it in). Network namespaces are files under ctx.netns_dir."""

from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import RuntimeFailure

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2


@contextmanager
def _ipr(netns: str | None = None) -> Iterator:
    from pyroute2 import IPRoute

    ip = IPRoute(netns=netns) if netns else IPRoute()
    try:
        yield ip
    finally:
        ip.close()


def _libc():
    return ctypes.CDLL("libc.so.6", use_errno=True)


def routed_prefixes() -> list[ipaddress.IPv4Network]:
    out = []
    with _ipr() as ip:
        for r in ip.get_routes(family=socket.AF_INET):
            dst = r.get_attr("RTA_DST")
            if dst and r.get("dst_len", 0) > 0 and r.get_attr("RTA_TABLE") in (254, 255, None):
                if ipaddress.ip_address(dst).is_loopback:
                    continue
                out.append(ipaddress.ip_network(f"{dst}/{r['dst_len']}", strict=False))
    return out


def create_netns(path: Path) -> None:
    """A new network namespace bind-mounted on `path`, with `lo` up."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
    os.close(fd)
    pid = os.fork()
    if pid == 0:  # child: unshare its netns and pin it on the file
        try:
            libc = _libc()
            if libc.unshare(CLONE_NEWNET) != 0:
                os._exit(1)
            if libc.mount(b"/proc/self/ns/net", bytes(path), b"none", MS_BIND, None) != 0:
                os._exit(2)
            os._exit(0)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise RuntimeFailure(f"creating network namespace {path} failed (step {code})", field="network")
    try:
        with _ipr(str(path)) as ip:
            ip.link("set", index=ip.link_lookup(ifname="lo")[0], state="up")
    except Exception as e:
        remove_netns(path)
        raise RuntimeFailure(f"bringing up lo in {path} failed: {e}", field="network") from e


def remove_netns(path: Path) -> None:
    libc = _libc()
    libc.umount2(bytes(path), MNT_DETACH)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def is_netns(path: Path) -> bool:
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == str(path) for line in f)
    except OSError:
        return False


def link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def _sysctl(path: str, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        raise RuntimeFailure(f"setting {path} to {value} failed: {e}") from e


def enable_forwarding() -> None:
    if open("/proc/sys/net/ipv4/ip_forward").read().strip() != "1":
        _sysctl("/proc/sys/net/ipv4/ip_forward", "1")


def ensure_bridge(name: str, gateway: str, prefixlen: int, alias: str = "") -> bool:
    """Create the bridge with the gateway address, up. Returns True when it was created.
    `alias` (IFLA_IFALIAS) tags the link with the engine instance that owns it."""
    created = False
    with _ipr() as ip:
        idx = ip.link_lookup(ifname=name)
        if not idx:
            try:
                ip.link("add", ifname=name, kind="bridge")
            except Exception as e:
                raise RuntimeFailure(f"creating bridge {name} failed: {e}", field="network") from e
            created = True
            idx = ip.link_lookup(ifname=name)
        index = idx[0]
        try:
            if alias and created:
                ip.link("set", index=index, ifalias=alias)
            have = {a.get_attr("IFA_ADDRESS") for a in ip.get_addr(index=index, family=socket.AF_INET)}
            if gateway not in have:
                ip.addr("add", index=index, address=gateway, prefixlen=prefixlen)
            ip.link("set", index=index, state="up")
        except Exception as e:
            if created:
                delete_link(name)
            raise RuntimeFailure(f"configuring bridge {name} failed: {e}", field="network") from e
    # published ports reached through 127.0.0.1 are routed out of the bridge with a loopback source
    _sysctl(f"/proc/sys/net/ipv4/conf/{name}/route_localnet", "1")
    return created


def delete_link(name: str) -> None:
    with _ipr() as ip:
        idx = ip.link_lookup(ifname=name)
        if idx:
            try:
                ip.link("del", index=idx[0])
            except Exception as e:
                if link_exists(name):
                    raise RuntimeFailure(f"deleting link {name} failed: {e}") from e


def bridge_ports(name: str) -> list[str]:
    try:
        return os.listdir(f"/sys/class/net/{name}/brif")
    except FileNotFoundError:
        return []


def add_endpoint(netns: Path, host_if: str, ifname: str, bridge: str, mac: str, address: str,
                 prefixlen: int, gateway: str | None, alias: str = "") -> None:
    """A veth pair: `host_if` on the bridge, its peer moved into `netns` as `ifname` with the
    address (and a default route via `gateway` when given)."""
    tmp = "t" + host_if[1:]
    with _ipr() as ip:
        try:
            ip.link("add", ifname=host_if, kind="veth", peer=tmp)
        except Exception as e:
            raise RuntimeFailure(f"creating veth {host_if} failed: {e}", field="network") from e
        try:
            br = ip.link_lookup(ifname=bridge)[0]
            hidx = ip.link_lookup(ifname=host_if)[0]
            pidx = ip.link_lookup(ifname=tmp)[0]
            ip.link("set", index=hidx, master=br)
            if alias:
                ip.link("set", index=hidx, ifalias=alias)
            ip.link("set", index=pidx, net_ns_fd=str(netns))
            ip.link("set", index=hidx, state="up")
        except Exception as e:
            delete_link(host_if)
            raise RuntimeFailure(f"attaching veth {host_if} to {bridge} failed: {e}", field="network") from e
    try:
        with _ipr(str(netns)) as nip:
            idx = nip.link_lookup(ifname=tmp)[0]
            nip.link("set", index=idx, ifname=ifname, address=mac)
            nip.addr("add", index=idx, address=address, prefixlen=prefixlen)
            nip.link("set", index=idx, state="up")
            if gateway:
                nip.route("add", dst="0.0.0.0/0", gateway=gateway, oif=idx)
    except Exception as e:
        delete_link(host_if)
        raise RuntimeFailure(f"configuring {ifname} in {netns} failed: {e}", field="network") from e


def set_default_route(netns: Path, ifname: str, gateway: str) -> None:
    with _ipr(str(netns)) as nip:
        idx = nip.link_lookup(ifname=ifname)[0]
        try:
            nip.route("del", dst="0.0.0.0/0")
        except Exception:
            pass
        nip.route("add", dst="0.0.0.0/0", gateway=gateway, oif=idx)
