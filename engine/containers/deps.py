"""The containers area's calls into the other areas (images, networks, volumes), in one place.

The functions follow docs/interfaces.md. Where an area has not landed yet, a clearly marked
minimal SHIM keeps `--network none`/`host` working; it goes as soon as the area's module exists.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from engine.context import Context


def _module(name: str, attr: str) -> Any:
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):
            return None
        raise
    return mod if hasattr(mod, attr) else None


# ---- images
def resolve_image(ctx: Context, ref: str, field: str = "Image") -> Any:
    store_mod = _module("engine.images.store", "ImageStore")
    if store_mod is None:
        raise NotFound(f"{field}: No such image: {ref} (image store unavailable)", field=field)
    try:
        return store_mod.ImageStore(ctx).resolve(ref)
    except NotFound:
        raise NotFound(f"{field}: No such image: {ref}", field=field) from None


# ---- networks
def network_validate(ctx: Context, body: dict[str, Any]) -> None:
    hc = body.get("HostConfig") or {}
    if hc.get("NetworkMode") == "none":  # no netlink needed: checked here (see network_setup)
        if hc.get("PortBindings") or hc.get("PublishAllPorts"):
            raise InvalidArgument("NetworkMode: conflicting options: port publishing and network mode none",
                                  field="PortBindings")
        others = [n for n in ((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}) if n != "none"]
        if others:
            raise InvalidArgument(f"NetworkMode: a container with network mode none cannot join {others[0]!r}",
                                  field="NetworkingConfig")
        return
    api = _module("engine.networks.api", "validate")
    if api is not None:
        api.validate(ctx, body)
        return
    mode = (body.get("HostConfig") or {}).get("NetworkMode") or "bridge"
    if mode not in ("none", "host"):
        raise InvalidArgument(f"NetworkMode: {mode!r} needs the networks area (only none/host available)",
                              field="NetworkMode")


def network_setup(ctx: Context, rec: dict[str, Any]) -> dict[str, Any]:
    # `none` needs no netlink: runc makes the namespace (with lo up) itself. Handling it here
    # keeps `run --network none` from importing pyroute2 (start-up is paid per call).
    if rec["HostConfig"].get("NetworkMode") == "none":
        return _local_setup(ctx, rec)
    api = _module("engine.networks.api", "setup")
    if api is not None:
        return api.setup(ctx, rec)
    return _local_setup(ctx, rec)


def network_teardown(ctx: Context, rec: dict[str, Any]) -> None:
    if (rec.get("HostConfig") or {}).get("NetworkMode") == "none":
        return
    api = _module("engine.networks.api", "teardown")
    if api is not None:
        api.teardown(ctx, rec)


def _local_setup(ctx: Context, rec: dict[str, Any]) -> dict[str, Any]:
    """`none` (runc makes a netns with only lo) and, without the networks area, `host`:
    write the hosts and resolv.conf files by Docker's rules."""
    from engine.containers.paths import write_transient as atomic_write

    d = ctx.containers_dir / rec["Id"]
    mode = rec["HostConfig"].get("NetworkMode")
    if mode not in ("none", "host"):
        raise InvalidArgument(f"NetworkMode: {mode!r} unavailable", field="NetworkMode")
    hosts = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
             "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
    for extra in rec["HostConfig"].get("ExtraHosts") or []:
        name, _, ip = extra.partition(":")
        hosts += f"{ip}\t{name}\n"
    if mode == "host":
        hosts = Path("/etc/hosts").read_text()
    atomic_write(d / "hosts", hosts)
    try:
        host_resolv = Path("/etc/resolv.conf").read_text()
    except OSError:
        host_resolv = ""
    atomic_write(d / "resolv.conf", resolv_conf(host_resolv, rec["HostConfig"], keep_loopback=mode == "host"))
    return {"Bridge": "", "SandboxID": "", "SandboxKey": "" if mode == "none" else "", "Ports": {},
            "IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
            "Networks": {mode: {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": mode,
                                "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
                                "MacAddress": "", "DNSNames": None}}}


DEFAULT_NAMESERVERS = ("8.8.8.8", "8.8.4.4")


def _loopback_ns(addr: str) -> bool:
    a = addr.split("%")[0]
    return a.startswith("127.") or a in ("::1", "0:0:0:0:0:0:0:1")


def resolv_conf(host_text: str, hc: dict[str, Any], keep_loopback: bool = False) -> str:
    """Docker's container resolv.conf: the host's, without loopback nameservers (unreachable
    from the container's namespace; Google's public servers when none is left), with
    Dns/DnsSearch/DnsOptions replacing the host's lines. `keep_loopback`: host network."""
    ns: list[str] = []
    other: list[str] = []
    for line in host_text.splitlines():
        w = line.split()
        if w and w[0] == "nameserver" and len(w) > 1:
            ns.append(w[1])
        elif w and not w[0].startswith(("#", ";")):
            other.append(line.strip())
    if hc.get("Dns"):
        ns = list(hc["Dns"])
    elif not keep_loopback:
        ns = [n for n in ns if not _loopback_ns(n)] or list(DEFAULT_NAMESERVERS)
    if hc.get("DnsSearch"):
        other = [ln for ln in other if ln.split()[0] not in ("search", "domain")]
        if hc["DnsSearch"] != ["."]:
            other.append("search " + " ".join(hc["DnsSearch"]))
    if hc.get("DnsOptions"):
        other = [ln for ln in other if ln.split()[0] != "options"] + ["options " + " ".join(hc["DnsOptions"])]
    return "".join(f"{ln}\n" for ln in [*(f"nameserver {n}" for n in ns), *other])


# ---- volumes
def volume_acquire(ctx: Context, name: str | None, cid: str, copy_from: Path | None, nocopy: bool,
                   driver_opts: dict[str, str] | None = None, labels: dict[str, str] | None = None
                   ) -> tuple[str, str]:
    """`driver_opts`/`labels` (--mount volume-opt/volume-label) apply when the volume is created here."""
    api = _module("engine.volumes.api", "acquire")
    if api is None:
        raise InvalidArgument(f"Mounts: volume {name or '(anonymous)'} needs the volumes area", field="Mounts")
    extra = {k: v for k, v in (("driver_opts", driver_opts), ("labels", labels)) if v}
    n, p = api.acquire(ctx, name, cid, copy_from, nocopy, **extra)
    return n, str(p)


def volume_release(ctx: Context, name: str, cid: str, remove_anonymous: bool) -> None:
    api = _module("engine.volumes.api", "release")
    if api is not None:
        api.release(ctx, name, cid, remove_anonymous)
