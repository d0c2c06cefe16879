"""Where and how to connect to a registry: HTTPS with the system CAs; plain HTTP (or HTTPS
without verification) only for loopback hosts and `insecure_registries`; `registry_mirrors`
tried first for docker.io pulls."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from engine.context import Context

DOCKER_HUB_HOST = "registry-1.docker.io"
CERTS_DIRS = (Path("/etc/berth/certs.d"), Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


@dataclass(frozen=True)
class Endpoint:
    netloc: str          # host[:port]
    schemes: tuple[str, ...]  # tried in order: ("https",) or ("https", "http")
    verify: bool         # verify TLS certificates
    mirror: bool = False


def split_host(netloc: str) -> str:
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def is_loopback(netloc: str) -> bool:
    host = split_host(netloc)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_insecure(ctx: Context, netloc: str) -> bool:
    """Docker's rule: 127.0.0.0/8 (and localhost) plus the configured insecure registries
    (a host[:port] or a CIDR)."""
    if is_loopback(netloc):
        return True
    host = split_host(netloc)
    for entry in ctx.config.insecure_registries:
        e = entry.strip()
        for p in ("http://", "https://"):
            if e.startswith(p):
                e = e[len(p):]
        e = e.rstrip("/")
        if e == netloc or e == host:
            return True
        if "/" in e:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(e, strict=False):
                    return True
            except ValueError:
                pass
    return False


def endpoints(ctx: Context, domain: str, for_push: bool = False) -> list[Endpoint]:
    out: list[Endpoint] = []
    if domain == "docker.io":
        if not for_push:
            for m in ctx.config.registry_mirrors:
                u = urlsplit(m if "://" in m else "https://" + m)
                if not u.netloc:
                    continue
                insecure = u.scheme == "http" or is_insecure(ctx, u.netloc)
                schemes = ("http",) if u.scheme == "http" else (("https", "http") if insecure else ("https",))
                out.append(Endpoint(u.netloc, schemes, not insecure, mirror=True))
        out.append(Endpoint(DOCKER_HUB_HOST, ("https",), True))
        return out
    if is_insecure(ctx, domain):
        out.append(Endpoint(domain, ("https", "http"), False))
    else:
        out.append(Endpoint(domain, ("https",), True))
    return out


_CTX_CACHE: dict[tuple[str, bool], ssl.SSLContext] = {}


def ssl_context(netloc: str, verify: bool) -> ssl.SSLContext:
    key = (netloc, verify)
    c = _CTX_CACHE.get(key)
    if c is not None:
        return c
    if not verify:  # no CA bundle to load when nothing is verified
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
    else:
        c = ssl.create_default_context()
        for d in CERTS_DIRS:
            hd = d / netloc
            if hd.is_dir():
                for ca in sorted(hd.glob("*.crt")):
                    c.load_verify_locations(cafile=str(ca))
                for cert in sorted(hd.glob("*.cert")):
                    key_file = cert.with_suffix(".key")
                    if key_file.exists():
                        c.load_cert_chain(str(cert), str(key_file))
    _CTX_CACHE[key] = c
    return c
