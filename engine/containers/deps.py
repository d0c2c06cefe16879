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
    api = _module("engine.networks.api", "validate")
    if api is not None:
        api.validate(ctx, body)
        return
    mode = (body.get("HostConfig") or {}).get("NetworkMode") or "bridge"
    if mode not in ("none", "host"):
        raise InvalidArgument(f"NetworkMode: {mode!r} needs the networks area (only none/host available)",
                              field="NetworkMode")


def network_setup(ctx: Context, rec: dict[str, Any]) -> dict[str, Any]:
    api = _module("engine.networks.api", "setup")
    if api is not None:
        return api.setup(ctx, rec)
    return _shim_setup(ctx, rec)


def network_teardown(ctx: Context, rec: dict[str, Any]) -> None:
    api = _module("engine.networks.api", "teardown")
    if api is not None:
        api.teardown(ctx, rec)


def _shim_setup(ctx: Context, rec: dict[str, Any]) -> dict[str, Any]:
    """SHIM until engine.networks.api lands: none (runc makes a netns with lo) and host only."""
    from engine.util.fs import atomic_write

    d = ctx.containers_dir / rec["Id"]
    mode = rec["HostConfig"].get("NetworkMode")
    if mode not in ("none", "host"):
        raise InvalidArgument(f"NetworkMode: {mode!r} unavailable", field="NetworkMode")
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    if mode == "host":
        hosts = Path("/etc/hosts").read_text()
    atomic_write(d / "hosts", hosts)
    try:
        host_resolv = Path("/etc/resolv.conf").read_text()
    except OSError:
        host_resolv = ""
    lines = [ln for ln in host_resolv.splitlines()
             if not (ln.startswith("nameserver") and (" 127." in ln or " ::1" in ln))]
    atomic_write(d / "resolv.conf", "\n".join(lines) + "\n")
    return {"Bridge": "", "SandboxID": "", "SandboxKey": "" if mode == "none" else "", "Ports": {},
            "IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
            "Networks": {mode: {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": mode,
                                "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
                                "MacAddress": "", "DNSNames": None}}}


# ---- volumes
def volume_acquire(ctx: Context, name: str | None, cid: str, copy_from: Path | None, nocopy: bool
                   ) -> tuple[str, str]:
    api = _module("engine.volumes.api", "acquire")
    if api is None:
        raise InvalidArgument(f"Mounts: volume {name or '(anonymous)'} needs the volumes area", field="Mounts")
    n, p = api.acquire(ctx, name, cid, copy_from, nocopy)
    return n, str(p)


def volume_release(ctx: Context, name: str, cid: str, remove_anonymous: bool) -> None:
    api = _module("engine.volumes.api", "release")
    if api is not None:
        api.release(ctx, name, cid, remove_anonymous)
