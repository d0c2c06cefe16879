"""Published ports: the `-p` syntax, Docker's PortBindings shape, and host port checks."""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass

from engine.errors import Conflict, InvalidArgument


@dataclass(frozen=True)
class Binding:
    proto: str  # tcp | udp
    host_ip: str  # "" = every address
    host_port: int
    container_port: int

    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


def _port(value: str, what: str, spec: str) -> tuple[int, int]:
    a, _, b = value.partition("-")
    try:
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise InvalidArgument(f"invalid published port {spec!r}: {what} {value!r} is not a number or range",
                              field="published_ports") from None
    if not (0 < lo <= hi <= 65535):
        raise InvalidArgument(f"invalid published port {spec!r}: {what} {value!r} out of range 1-65535",
                              field="published_ports")
    return lo, hi


def parse_publish(spec: str) -> dict[str, list[dict[str, str]]]:
    """`[ip:][hostPort:]containerPort[/proto]` (ports may be ranges) -> PortBindings entries."""
    body, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp"):
        raise InvalidArgument(f"invalid published port {spec!r}: protocol {proto!r} (use tcp or udp)",
                              field="published_ports")
    host_ip, host_port = "", ""
    if body.startswith("["):  # [v6]:host:ctr
        end = body.find("]")
        host_ip, body = body[1:end], body[end + 2:]
    parts = body.rsplit(":", 2) if body.count(":") <= 2 else [body]
    if len(parts) == 3:
        host_ip, host_port, ctr = parts
    elif len(parts) == 2:
        host_port, ctr = parts
    else:
        ctr = parts[0]
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise InvalidArgument(f"invalid published port {spec!r}: host IP {host_ip!r} is not an address",
                                  field="published_ports") from None
    clo, chi = _port(ctr, "container port", spec)
    out: dict[str, list[dict[str, str]]] = {}
    if host_port:
        hlo, hhi = _port(host_port, "host port", spec)
        if hhi - hlo != chi - clo and not (clo == chi):
            raise InvalidArgument(f"invalid published port {spec!r}: host and container ranges differ in size",
                                  field="published_ports")
    for i, cp in enumerate(range(clo, chi + 1)):
        if host_port:
            hp = str(hlo + i) if chi > clo else (str(hlo) if hlo == hhi else f"{hlo}-{hhi}")
        else:
            hp = ""
        out.setdefault(f"{cp}/{proto}", []).append({"HostIp": host_ip, "HostPort": hp})
    return out


def requested(port_bindings: dict | None, publish_all: bool, exposed: dict | None) -> list[tuple[str, str, str, int]]:
    """(proto, host_ip, host_port_spec, container_port) wanted by a record; host_port_spec "" = any."""
    want: list[tuple[str, str, str, int]] = []
    seen: set[str] = set()
    for key, lst in (port_bindings or {}).items():
        cport, proto = _split_key(key)
        seen.add(f"{cport}/{proto}")
        for b in lst or [{}]:
            b = b or {}
            want.append((proto, b.get("HostIp") or "", str(b.get("HostPort") or ""), cport))
    if publish_all:
        for key in exposed or {}:
            cport, proto = _split_key(key)
            if f"{cport}/{proto}" not in seen:
                want.append((proto, "", "", cport))
    return want


def _split_key(key: str) -> tuple[int, str]:
    p, _, proto = str(key).partition("/")
    proto = proto or "tcp"
    try:
        port = int(p)
    except ValueError:
        raise InvalidArgument(f"invalid port {key!r} in PortBindings/ExposedPorts", field="published_ports") \
            from None
    if proto not in ("tcp", "udp") or not 0 < port <= 65535:
        raise InvalidArgument(f"invalid port {key!r} in PortBindings/ExposedPorts", field="published_ports")
    return port, proto


def _overlap(a: str, b: str) -> bool:
    return a in ("", "0.0.0.0") or b in ("", "0.0.0.0") or a == b


def socket_free(proto: str, host_ip: str, port: int) -> bool:
    """True when nothing on the host listens on (host_ip, port)."""
    fam = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    try:
        s.bind((host_ip or "0.0.0.0", port))
        return True
    except OSError as e:
        if e.errno in (errno.EADDRINUSE, errno.EACCES):
            return False
        if e.errno == errno.EADDRNOTAVAIL:
            raise InvalidArgument(f"invalid published port: host IP {host_ip!r} is not an address of this host",
                                  field="published_ports") from None
        raise
    finally:
        s.close()


def ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def resolve(want: list[tuple[str, str, str, int]], taken: list[tuple[str, str, int, str]]) -> list[Binding]:
    """Choose concrete host ports. `taken` lists (proto, host_ip, host_port, owner) already published
    by Berth; a clash with one of them or with a listening socket is a Conflict naming the port."""
    out: list[Binding] = []
    busy = list(taken)

    def clash(proto: str, ip: str, port: int) -> str | None:
        for tp, tip, tport, owner in busy:
            if tp == proto and tport == port and _overlap(tip, ip):
                return owner
        return None

    lo_e, hi_e = ephemeral_range()
    for proto, ip, spec, cport in want:
        if spec and "-" not in spec:
            port = int(spec)
            owner = clash(proto, ip, port)
            if owner:
                raise Conflict(f"host port {ip or '0.0.0.0'}:{port}/{proto} is already allocated by {owner}",
                               field="published_ports")
            if not socket_free(proto, ip, port):
                raise Conflict(f"host port {ip or '0.0.0.0'}:{port}/{proto} is already in use on this host",
                               field="published_ports")
        else:
            lo, hi = _port(spec, "host port", spec) if spec else (lo_e, hi_e)
            for port in range(lo, hi + 1):
                if not clash(proto, ip, port) and socket_free(proto, ip, port):
                    break
            else:
                raise Conflict(f"no free host port for {cport}/{proto} in {lo}-{hi}", field="published_ports")
        busy.append((proto, ip, port, "this container"))
        out.append(Binding(proto, ip, port, cport))
    return out


def to_docker(bindings: list[Binding], exposed: dict | None) -> dict[str, list[dict[str, str]] | None]:
    """NetworkSettings.Ports: every exposed/published port, with its host bindings or None."""
    ports: dict[str, list[dict[str, str]] | None] = {}
    for key in exposed or {}:
        ports.setdefault(str(key) if "/" in str(key) else f"{key}/tcp", None)
    for b in bindings:
        lst = ports.get(b.key()) or []
        lst.append({"HostIp": b.host_ip or "0.0.0.0", "HostPort": str(b.host_port)})
        ports[b.key()] = lst
    return ports
