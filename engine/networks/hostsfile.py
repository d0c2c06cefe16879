"""/etc/hosts and /etc/resolv.conf for a container, by Docker's rules.

Hosts files are rewritten in place (same inode) when peers change: the container bind-mounts
the file itself, and a rename would leave it looking at the old inode."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from engine.errors import InvalidArgument

BASE_HOSTS = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)
DEFAULT_NAMESERVERS = ["8.8.8.8", "8.8.4.4"]


def parse_extra_hosts(extra: list[str] | None, host_gateway: str | None) -> list[tuple[str, str]]:
    out = []
    for item in extra or []:
        name, sep, ip = item.partition(":")
        if not sep:
            name, sep, ip = item.partition("=")
        if not sep or not name or not ip:
            raise InvalidArgument(f"invalid ExtraHosts entry {item!r}: expected name:ip", field="etc_hosts")
        if ip == "host-gateway":
            if not host_gateway:
                raise InvalidArgument(f"invalid ExtraHosts entry {item!r}: no host gateway on this network",
                                      field="etc_hosts")
            ip = host_gateway
        ip = ip.strip("[]")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(f"invalid ExtraHosts entry {item!r}: {ip!r} is not an IP address",
                                  field="etc_hosts") from None
        out.append((name, ip))
    return out


def render_hosts(own: list[tuple[str, list[str]]], extra: list[tuple[str, str]],
                 peers: list[tuple[str, list[str]]]) -> str:
    """own: (ip, names) of the container itself; peers: (ip, names) from shared user networks."""
    lines = [BASE_HOSTS]
    for name, ip in extra:
        lines.append(f"{ip}\t{name}\n")
    for ip, names in own:
        lines.append(f"{ip}\t{' '.join(dict.fromkeys(names))}\n")
    for ip, names in peers:
        lines.append(f"{ip}\t{' '.join(dict.fromkeys(names))}\n")
    return "".join(lines)


def write_in_place(path: Path, text: str) -> None:
    """Replace the content of `path` keeping its inode (bind mounts follow the inode)."""
    data = text.encode()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)


def render_resolv(host_text: str, dns: list[str] | None, search: list[str] | None,
                  options: list[str] | None, keep_loopback: bool = False) -> str:
    ns, srch, opts, other = [], [], [], []
    for line in host_text.splitlines():
        w = line.split()
        if not w or w[0].startswith(("#", ";")):
            continue
        if w[0] == "nameserver" and len(w) > 1:
            ns.append(w[1])
        elif w[0] in ("search", "domain"):
            srch = w[1:]
        elif w[0] == "options":
            opts.extend(w[1:])
        else:
            other.append(line)
    for value in dns or []:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise InvalidArgument(f"invalid dns server {value!r}: not an IP address", field="dns_servers") \
                from None
    if dns:
        ns = list(dns)
    elif not keep_loopback:
        ns = [n for n in ns if not _loopback(n)]
        if not ns:
            ns = list(DEFAULT_NAMESERVERS)
    if search:
        srch = [] if search == ["."] else list(search)
    if options:
        opts = list(options)
    out = [f"nameserver {n}\n" for n in ns]
    if srch:
        out.append(f"search {' '.join(srch)}\n")
    if opts:
        out.append(f"options {' '.join(opts)}\n")
    return "".join(out)


def _loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr.split("%")[0]).is_loopback
    except ValueError:
        return False
