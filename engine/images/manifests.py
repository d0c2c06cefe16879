"""Manifests and indexes: OCI image manifest/index, Docker schema 2 manifest/manifest list.
Schema 1 is refused. Platform selection from an index."""

from __future__ import annotations

import json
from typing import Any

from engine.errors import InvalidArgument, RegistryError
from engine.images.store import (
    LAYER_MEDIA_TYPES,
    MT_DOCKER_CONFIG,
    MT_DOCKER_LIST,
    MT_DOCKER_MANIFEST,
    MT_OCI_CONFIG,
    MT_OCI_INDEX,
    MT_OCI_MANIFEST,
    host_platform,
)

MT_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
MT_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MANIFEST_TYPES = {MT_OCI_MANIFEST, MT_DOCKER_MANIFEST}
INDEX_TYPES = {MT_OCI_INDEX, MT_DOCKER_LIST}
CONFIG_TYPES = {MT_OCI_CONFIG, MT_DOCKER_CONFIG}
ACCEPT = ", ".join([MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST])
MAX_MANIFEST_SIZE = 4 << 20
MAX_CONFIG_SIZE = 16 << 20
_GENERIC_CT = {"", "application/json", "text/plain", "application/octet-stream"}


class ManifestError(RegistryError):
    type = "invalid_manifest"


def _descriptor(d: Any, where: str) -> dict[str, Any]:
    from engine.images.reference import validate_digest

    if not isinstance(d, dict):
        raise ManifestError(f"{where}: descriptor is not an object", field="manifest")
    dig, size = d.get("digest"), d.get("size")
    if not isinstance(dig, str):
        raise ManifestError(f"{where}: descriptor has no digest", field="manifest")
    try:
        validate_digest(dig)
    except InvalidArgument as e:
        raise ManifestError(f"{where}: {e.message}", field="manifest") from None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{where}: descriptor {dig} has an invalid size {size!r}", field="manifest")
    return d


def classify(body: bytes, content_type: str, what: str) -> tuple[str, str, dict[str, Any]]:
    """Return (kind, media type, document) with kind "manifest" or "index"; refuse anything
    else with a message naming `what`."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct in (MT_SCHEMA1, MT_SCHEMA1_SIGNED):
        raise ManifestError(f"{what}: Docker image manifest schema 1 is not supported (deprecated and "
                            f"insecure); push the image again with a current docker or skopeo", field="manifest")
    if len(body) > MAX_MANIFEST_SIZE:
        raise ManifestError(f"{what}: manifest is larger than {MAX_MANIFEST_SIZE} bytes", field="manifest")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ManifestError(f"{what}: manifest is not valid JSON", field="manifest") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{what}: manifest is not a JSON object", field="manifest")
    if doc.get("schemaVersion") == 1:
        raise ManifestError(f"{what}: Docker image manifest schema 1 is not supported (deprecated and "
                            f"insecure); push the image again with a current docker or skopeo", field="manifest")
    if doc.get("schemaVersion") != 2:
        raise ManifestError(f"{what}: unsupported manifest schemaVersion {doc.get('schemaVersion')!r}",
                            field="manifest")
    body_mt = doc.get("mediaType")
    if body_mt is not None and not isinstance(body_mt, str):
        raise ManifestError(f"{what}: manifest mediaType is not a string", field="manifest")
    if body_mt and ct not in _GENERIC_CT and body_mt != ct:
        raise ManifestError(f"{what}: the registry sent Content-Type {ct!r} but the manifest says mediaType "
                            f"{body_mt!r}: refused", field="manifest")
    mt = body_mt or (ct if ct not in _GENERIC_CT else "")
    if not mt:
        mt = MT_OCI_INDEX if "manifests" in doc else MT_OCI_MANIFEST
    if mt in INDEX_TYPES:
        ms = doc.get("manifests")
        if not isinstance(ms, list):
            raise ManifestError(f"{what}: index has no manifests list", field="manifest")
        for i, m in enumerate(ms):
            _descriptor(m, f"{what}: manifests[{i}]")
        return "index", mt, doc
    if mt in MANIFEST_TYPES:
        cfg = _descriptor(doc.get("config"), f"{what}: config")
        cmt = cfg.get("mediaType", MT_OCI_CONFIG)
        if cmt not in CONFIG_TYPES:
            raise ManifestError(f"{what}: config media type {cmt!r} is not a container image config "
                                f"(an OCI artifact?)", field="manifest")
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise ManifestError(f"{what}: manifest has no layers list", field="manifest")
        for i, layer in enumerate(layers):
            _descriptor(layer, f"{what}: layers[{i}]")
            lmt = layer.get("mediaType", "")
            if lmt not in LAYER_MEDIA_TYPES:
                raise ManifestError(f"{what}: layers[{i}] has unsupported media type {lmt!r}", field="manifest")
        return "manifest", mt, doc
    raise ManifestError(f"{what}: unsupported manifest media type {mt!r} (expected one of "
                        f"{', '.join(sorted(MANIFEST_TYPES | INDEX_TYPES))})", field="manifest")


_OSES = {"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "plan9"}


def parse_platform(s: str | None) -> dict[str, str]:
    """`linux/amd64`, `linux/arm64/v8`, `amd64`. None = the host's."""
    if not s:
        return host_platform()
    parts = s.strip().lower().split("/")
    if len(parts) == 1:  # like containerd's platforms.Parse: an OS alone takes the host's arch
        parts = [parts[0], host_platform()["architecture"]] if parts[0] in _OSES else ["linux", parts[0]]
    if len(parts) > 3 or not all(parts):
        raise InvalidArgument(f"invalid platform {s!r}: expected os/arch[/variant]", field="platform")
    out = {"os": parts[0], "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(parts[1], parts[1])}
    if len(parts) == 3:
        out["variant"] = parts[2]
    return out


def platform_str(p: dict[str, Any]) -> str:
    s = f"{p.get('os', '?')}/{p.get('architecture', '?')}"
    return s + (f"/{p['variant']}" if p.get("variant") else "")


def _variant_ok(want: dict[str, str], have: dict[str, Any]) -> bool:
    wv, hv = want.get("variant", ""), str(have.get("variant", "") or "")
    if not wv:
        return True
    if want.get("architecture") == "arm64":
        return (hv or "v8") == wv
    return hv == wv


def select_platform(index: dict[str, Any], want: dict[str, str], what: str) -> dict[str, Any]:
    cands = []
    for m in index.get("manifests", []):
        p = m.get("platform") or {}
        if p.get("os") == want["os"] and p.get("architecture") == want["architecture"] and _variant_ok(want, p):
            if m.get("mediaType", MT_OCI_MANIFEST) in MANIFEST_TYPES:
                cands.append(m)
    if not cands:
        have = sorted({platform_str(m.get("platform") or {}) for m in index.get("manifests", [])
                       if (m.get("platform") or {}).get("os") != "unknown"})
        raise RegistryError(f"{what}: no matching manifest for {platform_str(want)} in the manifest list "
                            f"(available: {', '.join(have) or 'none'})", field="platform")
    # prefer an exact variant match, then the first one (registries list the best first)
    cands.sort(key=lambda m: 0 if (m.get("platform") or {}).get("variant", "") == want.get("variant", "") else 1)
    return cands[0]
