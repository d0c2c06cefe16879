"""What other areas (and `berth apply`) call to act on images."""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.images.store import Image, ImageStore, now_rfc3339

if TYPE_CHECKING:
    from engine.context import Context


def inspect_image(img: Image) -> dict[str, Any]:
    cfg = img.config
    layers_dirs = [str(p) for p in img.layer_dirs()]
    out: dict[str, Any] = {
        "Id": img.id,
        "RepoTags": img.repo_tags,
        "RepoDigests": img.repo_digests,
        "Parent": img.parent,
        "Comment": _comment(cfg),
        "Created": img.created,
        "DockerVersion": "",
        "Author": cfg.get("author", ""),
        "Config": cfg.get("config") or {},
        "Architecture": cfg.get("architecture", ""),
        "Os": cfg.get("os", ""),
        "Size": img.size,
        "GraphDriver": {"Name": "overlay", "Data": {
            "LowerDir": ":".join(layers_dirs[1:]) if layers_dirs else "",
            "UpperDir": layers_dirs[0] if layers_dirs else ""}},
        "RootFS": {"Type": "layers", "Layers": img.diff_ids},
        "Metadata": {"LastTagTime": img.meta.get("last_tag_time", "0001-01-01T00:00:00Z")},
        "Descriptor": img.manifest_descriptor,
    }
    if cfg.get("variant"):
        out["Variant"] = cfg["variant"]
    return out


def _comment(cfg: dict[str, Any]) -> str:
    hist = cfg.get("history") or []
    return str(hist[-1].get("comment", "")) if hist else ""


def inspect(ctx: Context, name_or_id: str) -> dict[str, Any]:
    return inspect_image(ImageStore(ctx).resolve(name_or_id))


def list_all(ctx: Context, all: bool = False) -> list[dict[str, Any]]:
    """Inspect documents of the images `berth images` lists: untagged parents of other images
    (build steps) only with `all`, like Docker's `GET /images/json`."""
    imgs = ImageStore(ctx).images()
    parents = {i.parent for i in imgs if i.parent}
    return [inspect_image(i) for i in imgs if all or i.tags or i.id not in parents]


def prune(ctx: Context, all: bool = False, select: Callable[[Image], bool] | None = None,
          collect: bool = False) -> dict[str, Any]:
    """Docker's `image prune`: remove dangling images (untagged and not the parent of another
    image), or with `all` every image no container uses; `select` narrows (label/until
    filters). Untagged parents (build steps) go with the image they lead to, never on their
    own, so a tagged image keeps its build cache. `collect` also deletes content no image
    references (left by interrupted pulls, see ImageStore.collect_unreferenced). Returns
    {"ImagesDeleted", "SpaceReclaimed"}."""
    from engine.images.store import image_users

    store = ImageStore(ctx)
    imgs = store.images()
    parents = {i.parent for i in imgs if i.parent}
    sizes: dict[str, int] = {}
    events: list[dict[str, str]] = []
    for img in imgs:
        if not img.tags and img.id in parents:
            continue  # an intermediate: removed with its child, if at all
        if img.tags and not all:
            continue
        if image_users(ctx, img.id) or (select is not None and not select(img)):
            continue
        for d in img.diff_ids:
            sizes.setdefault(d, store.layer_size(d))
        names = [t for t in img.repo_tags] if img.tags else [img.id]
        for name in names:
            try:
                events += store.remove(name, force=False, prune_children=True)
            except (NotFound, Conflict):
                continue
    reclaimed = sum(s for d, s in sizes.items() if not store.has_layer(d))
    if collect:
        reclaimed += store.collect_unreferenced()
    return {"ImagesDeleted": events, "SpaceReclaimed": reclaimed}


# ---------------------------------------------------------------------------- import

_CHANGE_VERBS = {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR",
                 "STOPSIGNAL"}


def _json_or_shell(arg: str, shell_form: bool = True) -> list[str]:
    a = arg.strip()
    if a.startswith("["):
        try:
            v = json.loads(a)
        except json.JSONDecodeError:
            v = None
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return v
    return ["/bin/sh", "-c", a] if shell_form else shlex.split(a)


def _kv_pairs(arg: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    words = shlex.split(arg)
    if len(words) == 2 and "=" not in words[0]:
        return {words[0]: words[1]}
    if words and "=" not in words[0] and what == "ENV":  # ENV key value with spaces
        k, _, v = arg.strip().partition(" ")
        return {k: v.strip()}
    for w in words:
        k, eq, v = w.partition("=")
        if not eq or not k:
            raise InvalidArgument(f"--change {what}: {w!r} is not KEY=VALUE", field="change")
        out[k] = v
    return out


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Apply Dockerfile-style `--change` instructions to an image's `config.Config`."""
    c = config
    for ch in changes:
        verb, _, arg = ch.strip().partition(" ")
        v = verb.upper()
        if v not in _CHANGE_VERBS:
            raise InvalidArgument(f"--change {ch!r}: {verb!r} is not a supported instruction "
                                  f"({', '.join(sorted(_CHANGE_VERBS))})", field="change")
        arg = arg.strip()
        if v == "CMD":
            c["Cmd"] = _json_or_shell(arg)
        elif v == "ENTRYPOINT":
            c["Entrypoint"] = _json_or_shell(arg)
        elif v == "ENV":
            env = [e for e in c.get("Env") or []]
            for k, val in _kv_pairs(arg, "ENV").items():
                env = [e for e in env if e.split("=", 1)[0] != k] + [f"{k}={val}"]
            c["Env"] = env
        elif v == "LABEL":
            c.setdefault("Labels", {}).update(_kv_pairs(arg, "LABEL"))
        elif v == "EXPOSE":
            ports = c.setdefault("ExposedPorts", {})
            for p in arg.split():
                ports[p if "/" in p else f"{p}/tcp"] = {}
        elif v == "VOLUME":
            vols = c.setdefault("Volumes", {})
            for p in _json_or_shell(arg, shell_form=False):
                vols[p] = {}
        elif v == "USER":
            c["User"] = arg
        elif v == "WORKDIR":
            c["WorkingDir"] = arg
        elif v == "STOPSIGNAL":
            c["StopSignal"] = arg
        elif v == "ONBUILD":
            c.setdefault("OnBuild", []).append(arg)
    return c


def import_tarball(ctx: Context, src: BinaryIO | Path, ref: str | None = None, changes: list[str] | None = None,
                   message: str = "", source_name: str = "-") -> Image:
    """`docker import`: one layer from a (possibly compressed) rootfs tarball."""
    from engine.images import reference as refmod
    from engine.images.layers import open_decompressed

    tags = [str(refmod.parse(ref))] if ref else []
    config: dict[str, Any] = {}
    apply_changes(config, list(changes or []))
    store = ImageStore(ctx)
    store.ensure_layout()
    out, tmp = store.tmp_file("import-")
    try:
        with contextlib.ExitStack() as st:
            raw = st.enter_context(open(src, "rb")) if isinstance(src, Path) else src
            stream, _kind = open_decompressed(raw)
            with out:
                while True:
                    b = stream.read(1 << 20)
                    if not b:
                        break
                    out.write(b)
        created = now_rfc3339()
        hist = {"created": created, "created_by": "", "comment": message or f"Imported from {source_name}"}
        return store.commit({"created": created, "config": config}, [tmp], [hist], tags)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# ---------------------------------------------------------------------------- registry


def pull(ctx: Context, ref: str, platform: str | None = None, quiet: bool = True) -> Image:
    from engine.images.pull import pull as _pull

    return _pull(ctx, ref, platform=platform, quiet=quiet)


def push(ctx: Context, ref: str, quiet: bool = True, chunk_size: int | None = None) -> dict[str, Any]:
    from engine.images.push import push as _push

    return _push(ctx, ref, quiet=quiet, chunk_size=chunk_size)


def normalise_registry(server: str | None) -> str:
    """`berth login [SERVER]`: a host[:port] (a URL is accepted); none means Docker Hub."""
    from engine.images.registry.auth import _normalise_server

    if not server:
        return "docker.io"
    s = _normalise_server(server)
    if not s or any(c in s for c in " @") or s != s.strip():
        raise InvalidArgument(f"invalid registry address {server!r}", field="registry")
    return s


def login(ctx: Context, registry: str | None, user: str, password: str) -> str:
    """Check the credentials against the registry, then store them. Returns the registry."""
    from engine.errors import RegistryError
    from engine.images.registry import auth as authmod
    from engine.images.registry.client import RegistryClient
    from engine.images.registry.errors import Unauthorized

    if not user:
        raise InvalidArgument("login: username must not be empty", field="username")
    if not password:
        raise InvalidArgument("login: password must not be empty", field="password")
    domain = normalise_registry(registry)
    c = RegistryClient(ctx, domain, "", creds=(user, password))
    c.scopes = []
    try:
        c.ping()
        ch = c.challenge
        if ch is not None and ch.scheme == "bearer":
            c._token(ch, [], force=True)
        elif ch is not None and ch.scheme == "basic":
            r = c._send("GET", c.url("/v2/"), {"Authorization": authmod.basic_header((user, password))}, None)
            r.read()
            if r.status in (401, 403):
                raise Unauthorized(f"login to {domain} failed: unauthorized: incorrect username or password",
                                   field="password")
            if r.status != 200:
                raise RegistryError(f"login to {domain} failed: HTTP {r.status}", field="registry")
    finally:
        c.close()
    authmod.store_credentials(ctx, domain, user, password)
    return domain


def logout(ctx: Context, registry: str | None) -> bool:
    from engine.images.registry.auth import remove_credentials

    return remove_credentials(ctx, normalise_registry(registry))


# ---------------------------------------------------------------------------- archives


def save(ctx: Context, refs: list[str], path: str | Path | BinaryIO) -> list[str]:
    """`docker save` format (also an OCI layout) to a file path (written atomically) or a
    binary stream. Returns the image IDs saved."""
    import os

    from engine.images.archive import check_output_target
    from engine.images.archive import save as _save

    if not isinstance(path, (str, Path)):
        return _save(ctx, list(refs), path)
    check_output_target(str(path))
    p = Path(path)
    tmp = p.with_name(f".{p.name}.berth-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            ids = _save(ctx, list(refs), f)
        tmp.replace(p)
        return ids
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def load(ctx: Context, src: str | Path | BinaryIO) -> list[str]:
    """Load a docker-save or OCI archive. Returns the loaded names: familiar tags, or the
    image ID for an untagged image."""
    from engine.images.archive import load as _load

    loaded = _load(ctx, Path(src) if isinstance(src, str) else src)
    out: list[str] = []
    for image_id, tags in loaded:
        out.extend(tags or [image_id])
    return out
