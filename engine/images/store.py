"""The image store.

    <root>/oci/                 a valid OCI image layout (skopeo reads it: `oci:<root>/oci:<ref>`)
        oci-layout, index.json  one descriptor per tag (`org.opencontainers.image.ref.name` is the
                                normalised reference), one without annotations per untagged image
        blobs/sha256/<hex>      manifests, configs, compressed layers (content addressed)
    <root>/layers/<diffid hex>/ each layer unpacked once, used directly as an overlay lower dir
    <root>/images/<id hex>.json per-image metadata: manifest descriptor, tags, repo digests
    <root>/images/layers/<diffid hex>.json  unpacked size of a layer

Blobs and layer directories are content addressed and appear atomically (written under tmp/,
then renamed), so concurrent writers never clash; metadata and index.json change only under the
`images` lock. An image exists once its metadata file does, which is written last: an
interrupted pull leaves at most unreferenced blobs/layers that the next pull reuses (or, once
they are old, `image prune` deletes: `collect_unreferenced`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from engine.errors import BerthError, Conflict, InvalidArgument, NotFound
from engine.images import reference as refmod
from engine.util.fs import atomic_write, atomic_write_json, read_json
from engine.util.lock import locked

if TYPE_CHECKING:
    from engine.context import Context

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MT_DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
LAYER_MEDIA_TYPES = {MT_OCI_LAYER, MT_OCI_LAYER_GZIP, MT_OCI_LAYER_ZSTD, MT_DOCKER_LAYER_GZIP, MT_DOCKER_LAYER,
                     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", MT_DOCKER_FOREIGN}
REF_ANNOTATION = "org.opencontainers.image.ref.name"
GZIP_LEVEL = 6


def sha256_hex(data: bytes) -> str:
    import hashlib  # not at module level: resolving an image for `run` needs no digests

    return hashlib.sha256(data).hexdigest()


def hex_of(digest: str) -> str:
    algo, _, h = digest.partition(":")
    if algo != "sha256" or len(h) != 64 or not all(c in "0123456789abcdef" for c in h):
        raise InvalidArgument(f"unsupported or malformed digest {digest!r}", field="digest")
    return h


def now_rfc3339() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1e9):09d}Z"


def host_platform() -> dict[str, str]:
    import platform

    m = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386",
            "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}.get(m)
    if arch:
        return {"os": "linux", "architecture": arch}
    if m.startswith("armv7"):
        return {"os": "linux", "architecture": "arm", "variant": "v7"}
    if m.startswith("armv6"):
        return {"os": "linux", "architecture": "arm", "variant": "v6"}
    return {"os": "linux", "architecture": m}


def image_users(ctx: Context, image_id: str) -> list[str]:
    """Names of containers using an image (asks the containers area when it exists)."""
    try:
        from engine.containers import api as capi  # type: ignore[attr-defined]
    except ModuleNotFoundError:
        return []
    fn = getattr(capi, "image_users", None)
    return list(fn(ctx, image_id)) if fn else []


class Image:
    def __init__(self, store: ImageStore, meta: dict[str, Any]) -> None:
        self.store = store
        self.meta = meta
        self.id: str = meta["id"]
        self._config: dict[str, Any] | None = None
        self._manifest: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Image({self.id[:19]}, {self.repo_tags})"

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[1][:12]

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = json.loads(self.store.read_blob(self.id))
        return self._config

    @property
    def manifest_descriptor(self) -> dict[str, Any]:
        return self.meta["manifest"]

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = json.loads(self.store.read_blob(self.meta["manifest"]["digest"]))
        return self._manifest

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids") or [])

    def layer_dirs(self) -> list[Path]:
        """Unpacked layer dirs, top-most first (overlay lowerdir order)."""
        return [self.store.layer_dir(d) for d in reversed(self.diff_ids)]

    @property
    def tags(self) -> list[str]:
        """Full normalised tags (docker.io/library/busybox:latest)."""
        return list(self.meta.get("repo_tags", []))

    @property
    def repo_tags(self) -> list[str]:
        return [refmod.parse(t).familiar() for t in self.tags]

    @property
    def repo_digests(self) -> list[str]:
        return [refmod.parse(t).familiar() for t in self.meta.get("repo_digests", [])]

    @property
    def created(self) -> str:
        return str(self.config.get("created") or "")

    @property
    def size(self) -> int:
        return sum(self.store.layer_size(d) for d in self.diff_ids)

    @property
    def parent(self) -> str:
        return str(self.meta.get("parent") or "")


class ImageStore:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.oci = ctx.oci_dir
        self.blobs = ctx.oci_dir / "blobs" / "sha256"
        self.meta_dir = ctx.images_dir
        self.layer_meta_dir = ctx.images_dir / "layers"

    # ------------------------------------------------------------------ layout & blobs
    def ensure_layout(self) -> None:
        if not (self.oci / "oci-layout").exists():
            self.blobs.mkdir(parents=True, exist_ok=True)
            atomic_write(self.oci / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}))
        if not (self.oci / "index.json").exists():
            with locked(self.ctx, "images"):
                if not (self.oci / "index.json").exists():
                    self._rebuild_index()
        self.ctx.layers_dir.mkdir(parents=True, exist_ok=True)
        self.layer_meta_dir.mkdir(parents=True, exist_ok=True)

    def blob_path(self, digest: str) -> Path:
        return self.blobs / hex_of(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is missing from the store", field="digest") from None

    def put_blob(self, data: bytes, expect: str | None = None) -> str:
        d = "sha256:" + sha256_hex(data)
        if expect and expect != d:
            raise BerthError(f"content does not match its digest: want {expect}, got {d}", field="digest")
        p = self.blob_path(d)
        if not p.exists():
            self.ensure_layout()
            atomic_write(p, data)
        return d

    def adopt_blob_file(self, tmp: Path, digest: str) -> None:
        """Move a verified temp file (under ctx.tmp_dir) into place as blob `digest`."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.blob_path(digest))

    @property
    def tmp(self) -> Path:
        """Staging dir (same filesystem as the store). Entries are named <kind>-<pid>-..., so
        what a killed process left behind can be told from what a live one is writing."""
        p = self.ctx.tmp_dir / "images"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def tmp_file(self, prefix: str = "blob-") -> tuple[BinaryIO, Path]:
        import tempfile

        fd, name = tempfile.mkstemp(dir=self.tmp, prefix=f"{prefix}{os.getpid()}-")
        return os.fdopen(fd, "w+b"), Path(name)

    def tmp_dir(self, prefix: str) -> Path:
        import tempfile

        return Path(tempfile.mkdtemp(dir=self.tmp, prefix=f"{prefix}{os.getpid()}-"))

    # ------------------------------------------------------------------ layers
    def layer_dir(self, diff_id: str) -> Path:
        return self.ctx.layers_dir / hex_of(diff_id)

    def has_layer(self, diff_id: str) -> bool:
        return self.layer_dir(diff_id).is_dir()

    def layer_info(self, diff_id: str) -> dict[str, Any]:
        return read_json(self.layer_meta_dir / (hex_of(diff_id) + ".json"), {}) or {}

    def layer_size(self, diff_id: str) -> int:
        return int(self.layer_info(diff_id).get("size", 0))

    # blob sources: which repositories a blob is known to exist in (for cross-repo mounts)
    def blob_sources(self, digest: str) -> list[str]:
        return list(read_json(self.ctx.images_dir / "sources" / (hex_of(digest) + ".json"), []) or [])

    def note_blob_source(self, digest: str, repo: str) -> None:
        p = self.ctx.images_dir / "sources" / (hex_of(digest) + ".json")
        cur = list(read_json(p, []) or [])
        if repo in cur:
            return
        atomic_write_json(p, ([repo] + cur)[:16])

    def add_repo_digest(self, image_id: str, repo_digest: str) -> None:
        with locked(self.ctx, "images"):
            m = read_json(self._meta_path(image_id))
            if m is None:
                return
            if repo_digest not in m.setdefault("repo_digests", []):
                m["repo_digests"].append(repo_digest)
                self._write_meta(m)

    def ensure_layer_from_stream(self, raw: BinaryIO, expect_diff_id: str | None,
                                 before_install: Callable[[], None] | None = None,
                                 reopen: Callable[[], BinaryIO] | None = None) -> str:
        """Unpack a (possibly compressed) layer into its directory, atomically. Verifies the
        diff ID when given, and calls `before_install` (which may raise: e.g. to check the
        compressed blob's digest) before the directory appears; returns the diff ID."""
        from engine.images.layers import LayerError, unpack_compressed

        if expect_diff_id and self.has_layer(expect_diff_id):
            return expect_diff_id
        self.ensure_layout()
        tmp = self.tmp_dir("layer-")
        try:
            os.chmod(tmp, 0o755)
            diff_id, size, tar_size = unpack_compressed(raw, tmp, reopen)
            if expect_diff_id and diff_id != expect_diff_id:
                raise LayerError(f"layer content does not match its diff ID: want {expect_diff_id}, got {diff_id}")
            if before_install is not None:
                before_install()
            self._install_layer(tmp, diff_id, size, tar_size)
        finally:
            if tmp.exists():
                _rmtree(tmp)
        return diff_id

    def _install_layer(self, tmp: Path, diff_id: str, size: int, tar_size: int) -> None:
        atomic_write_json(self.layer_meta_dir / (hex_of(diff_id) + ".json"),
                          {"diff_id": diff_id, "size": size, "tar_size": tar_size})
        final = self.layer_dir(diff_id)
        if final.exists():
            return
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.exists():
                raise

    def put_layer_tar(self, tar: Path) -> tuple[dict[str, Any], str]:
        """Store an uncompressed layer tar: gzip blob + unpacked dir. Returns (descriptor, diff_id)."""
        import hashlib

        dh, bh = hashlib.sha256(), hashlib.sha256()
        comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        out, tmp = self.tmp_file()
        size = 0
        try:
            with out, open(tar, "rb") as f:
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    dh.update(b)
                    c = comp.compress(b)
                    if c:
                        bh.update(c)
                        out.write(c)
                        size += len(c)
                c = comp.flush()
                bh.update(c)
                out.write(c)
                size += len(c)
            digest = "sha256:" + bh.hexdigest()
            self.ensure_layout()
            self.adopt_blob_file(tmp, digest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        diff_id = "sha256:" + dh.hexdigest()
        if not self.has_layer(diff_id):
            with open(tar, "rb") as f:
                self.ensure_layer_from_stream(f, diff_id, reopen=lambda: open(tar, "rb"))
        return {"mediaType": MT_OCI_LAYER_GZIP, "digest": digest, "size": size}, diff_id

    # ------------------------------------------------------------------ metadata
    def _meta_path(self, image_id: str) -> Path:
        return self.meta_dir / (hex_of(image_id) + ".json")

    def _all_meta(self) -> list[dict[str, Any]]:
        out = []
        try:
            names = os.listdir(self.meta_dir)
        except FileNotFoundError:
            return []
        for n in sorted(names):
            if n.endswith(".json") and len(n) == 69:
                m = read_json(self.meta_dir / n)
                if m:
                    out.append(m)
        return out

    def images(self) -> list[Image]:
        return [Image(self, m) for m in self._all_meta()]

    def get(self, image_id: str) -> Image | None:
        m = read_json(self._meta_path(image_id))
        return Image(self, m) if m else None

    def resolve(self, name_or_id: str) -> Image:
        s = name_or_id.strip()
        if not s:
            raise InvalidArgument("image name must not be empty", field="image")
        metas = self._all_meta()
        if s.startswith("sha256:"):
            prefix = s[7:]
            hits = [m for m in metas if m["id"][7:].startswith(prefix)] if prefix else []
            return self._one(hits, s)
        try:
            ref = refmod.parse(s)
        except InvalidArgument:
            ref = None
        if ref is not None:
            if ref.digest:
                want = f"{ref.name}@{ref.digest}"
                for m in metas:
                    if want in m.get("repo_digests", []):
                        return Image(self, m)
            else:
                want = str(ref)
                for m in metas:
                    if want in m.get("repo_tags", []):
                        return Image(self, m)
        if all(c in "0123456789abcdef" for c in s) and len(s) <= 64:
            hits = [m for m in metas if m["id"][7:].startswith(s)]
            if hits:
                return self._one(hits, s)
        if ref is None and not all(c in "0123456789abcdef" for c in s):
            refmod.parse(s)  # re-raise the reference error: it quotes the input
        raise NotFound(f"No such image: {s}", field="image")

    def _one(self, hits: list[dict[str, Any]], s: str) -> Image:
        if not hits:
            raise NotFound(f"No such image: {s}", field="image")
        if len(hits) > 1:
            raise InvalidArgument(f"image ID prefix {s!r} is ambiguous ({len(hits)} images match)", field="image")
        return Image(self, hits[0])

    def _rebuild_index(self) -> None:
        """index.json from the metadata (caller holds the lock)."""
        manifests = []
        for m in self._all_meta():
            desc = {k: m["manifest"][k] for k in ("mediaType", "digest", "size")}
            tags = m.get("repo_tags", [])
            if not tags:
                manifests.append(desc)
            for t in sorted(tags):
                manifests.append({**desc, "annotations": {REF_ANNOTATION: t, "io.containerd.image.name": t}})
        self.blobs.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.oci / "index.json",
                          {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests})

    def _write_meta(self, m: dict[str, Any]) -> None:
        atomic_write_json(self._meta_path(m["id"]), m)

    def _take_tags(self, metas: list[dict[str, Any]], tags: Iterable[str], owner: str) -> None:
        """Move tags to `owner`: remove them from every other image (caller holds the lock)."""
        tags = set(tags)
        for m in metas:
            if m["id"] == owner:
                continue
            had = m.get("repo_tags", [])
            keep = [t for t in had if t not in tags]
            if keep != had:
                m["repo_tags"] = keep
                self._write_meta(m)

    def add_image(self, manifest_bytes: bytes, config_bytes: bytes, tags: Iterable[str] = (),
                  repo_digests: Iterable[str] = (), parent: str = "",
                  manifest_media_type: str | None = None) -> Image:
        """Register an image whose layers are already stored (blobs and unpacked dirs)."""
        tags = [str(refmod.parse(t)) for t in tags]
        manifest = json.loads(manifest_bytes)
        mt = manifest_media_type or manifest.get("mediaType") or MT_OCI_MANIFEST
        config = json.loads(config_bytes)
        self.ensure_layout()
        image_id = self.put_blob(config_bytes)
        mdigest = self.put_blob(manifest_bytes)
        with locked(self.ctx, "images"):
            for layer in manifest.get("layers", []):
                if not self.has_blob(layer["digest"]):
                    raise BerthError(f"layer blob {layer['digest']} vanished while the image was being stored; "
                                     "retry", field="layer")
            for d in config.get("rootfs", {}).get("diff_ids", []):
                if not self.has_layer(d):
                    raise BerthError(f"layer {d} is not unpacked; retry", field="layer")
            metas = self._all_meta()
            old = next((m for m in metas if m["id"] == image_id), None)
            m = old or {"id": image_id, "manifest": {"mediaType": mt, "digest": mdigest,
                                                     "size": len(manifest_bytes)},
                        "repo_tags": [], "repo_digests": [], "parent": parent, "added": now_rfc3339()}
            if not self.has_blob(m["manifest"]["digest"]):
                m["manifest"] = {"mediaType": mt, "digest": mdigest, "size": len(manifest_bytes)}
            for t in tags:
                if t not in m["repo_tags"]:
                    m["repo_tags"].append(t)
                    m["last_tag_time"] = now_rfc3339()
            for d in repo_digests:
                if d not in m["repo_digests"]:
                    m["repo_digests"].append(d)
            self._take_tags(metas, tags, image_id)
            self._write_meta(m)
            self._rebuild_index()
        return Image(self, m)

    # ------------------------------------------------------------------ commit / tag / remove
    def commit(self, config: dict[str, Any], new_layer_tars: list[Path], history: list[dict[str, Any]],
               tags: Iterable[str] = (), parent: Image | None = None) -> Image:
        descs: list[dict[str, Any]] = []
        diff_ids: list[str] = []
        for t in new_layer_tars:
            desc, diff_id = self.put_layer_tar(Path(t))
            descs.append(desc)
            diff_ids.append(diff_id)
        cfg = json.loads(json.dumps(config))
        plat = host_platform()
        if parent is not None:
            for k in ("architecture", "os", "variant"):
                if k in parent.config and k not in cfg:
                    cfg[k] = parent.config[k]
        for k, v in plat.items():
            cfg.setdefault(k, v)
        cfg.setdefault("created", now_rfc3339())
        cfg.setdefault("config", {})
        cfg["rootfs"] = {"type": "layers", "diff_ids": (parent.diff_ids if parent else []) + diff_ids}
        hist = (list(parent.config.get("history") or []) if parent else []) + list(history)
        if hist:
            cfg["history"] = hist
        else:
            cfg.pop("history", None)
        config_bytes = json.dumps(cfg, separators=(",", ":")).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {"mediaType": MT_OCI_CONFIG, "digest": "sha256:" + sha256_hex(config_bytes),
                       "size": len(config_bytes)},
            "layers": (list(parent.manifest.get("layers", [])) if parent else []) + descs,
        }
        manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
        return self.add_image(manifest_bytes, config_bytes, tags, parent=parent.id if parent else "")

    def tag(self, image: Image | str, target: str) -> Image:
        ref = refmod.parse(target)  # a bad target is an input error whether or not the image exists
        img = self.resolve(image) if isinstance(image, str) else image
        if ref.digest:
            raise InvalidArgument(f"refusing to create a tag with a digest reference: {target!r}", field="tag")
        t = str(ref)
        with locked(self.ctx, "images"):
            metas = self._all_meta()
            m = next((x for x in metas if x["id"] == img.id), None)
            if m is None:
                raise NotFound(f"No such image: {image}", field="image")
            if t not in m["repo_tags"]:
                m["repo_tags"].append(t)
            m["last_tag_time"] = now_rfc3339()
            self._take_tags(metas, [t], img.id)
            self._write_meta(m)
            self._rebuild_index()
            return Image(self, m)

    def untag(self, name: str) -> Image:
        ref = refmod.parse(name)
        t = str(ref)
        with locked(self.ctx, "images"):
            for m in self._all_meta():
                if t in m.get("repo_tags", []):
                    m["repo_tags"].remove(t)
                    self._write_meta(m)
                    self._rebuild_index()
                    return Image(self, m)
        raise NotFound(f"No such image: {name}", field="image")

    def children(self, image_id: str, metas: list[dict[str, Any]] | None = None) -> list[str]:
        """IDs of the images whose parent is `image_id` (build steps on top of it)."""
        return [m["id"] for m in (self._all_meta() if metas is None else metas) if m.get("parent") == image_id]

    def remove(self, name_or_id: str, force: bool = False, prune_children: bool = True) -> list[dict[str, str]]:
        """Docker's `rmi` rules. Returns events like [{"Untagged": "busybox:latest"},
        {"Deleted": "sha256:..."}]. Removing an image's last reference deletes it and then
        (`prune_children`, Docker's default; `--no-prune` turns it off) each untagged parent
        that no other image and no container uses. An image with child images is only
        untagged when named by its last tag, and refused when named by ID."""
        img = self.resolve(name_or_id)
        events: list[dict[str, str]] = []
        by_ref = False
        s = name_or_id.strip()
        if not s.startswith("sha256:") and refmod.is_reference_like(s):
            r = refmod.parse(s)
            by_ref = (str(r) in img.tags) or (bool(r.digest) and f"{r.name}@{r.digest}" in img.meta.get("repo_digests", []))
        users = image_users(self.ctx, img.id)
        with locked(self.ctx, "images"):
            metas = self._all_meta()
            m = next((x for x in metas if x["id"] == img.id), None)
            if m is None:
                raise NotFound(f"No such image: {name_or_id}", field="image")
            tags = list(m.get("repo_tags", []))
            if by_ref and len(tags) > 1 and not (refmod.parse(s).digest):
                t = str(refmod.parse(s))
                m["repo_tags"].remove(t)
                self._write_meta(m)
                self._rebuild_index()
                return [{"Untagged": refmod.parse(t).familiar()}]
            if not by_ref and len(tags) > 1 and not force:
                raise Conflict(f"conflict: unable to delete {img.short_id} (must be forced) - image is referenced "
                               f"in multiple repositories", field="image")
            if users:
                if not force:
                    raise Conflict(f"conflict: unable to remove repository reference {name_or_id!r} (must force) - "
                                   f"container {', '.join(users)} is using its referenced image {img.short_id}",
                                   field="image")
                # forced: untag, keep the content the containers still use
                for t in tags:
                    events.append({"Untagged": refmod.parse(t).familiar()})
                m["repo_tags"] = []
                self._write_meta(m)
                self._rebuild_index()
                return events
            if self.children(img.id, metas):
                if not by_ref:
                    raise Conflict(f"conflict: unable to delete {img.short_id} (cannot be forced) - image has "
                                   f"dependent child images", field="image")
                # its last tag: untag only; the image stays as the parent of its children
                for t in tags:
                    events.append({"Untagged": refmod.parse(t).familiar()})
                m["repo_tags"] = []
                self._write_meta(m)
                self._rebuild_index()
                return events
            for t in tags:
                events.append({"Untagged": refmod.parse(t).familiar()})
            for d in m.get("repo_digests", []):
                events.append({"Untagged": refmod.parse(d).familiar()})
            self._meta_path(img.id).unlink()
            gone = [img]
            events.append({"Deleted": img.id})
            parent = str(m.get("parent") or "")
            left = [x for x in metas if x["id"] != img.id]
            while prune_children and parent:
                pm = next((x for x in left if x["id"] == parent), None)
                if (pm is None or pm.get("repo_tags") or pm.get("repo_digests") or self.children(parent, left)
                        or image_users(self.ctx, parent)):
                    break
                self._meta_path(parent).unlink()
                gone.append(Image(self, pm))
                events.append({"Deleted": parent})
                left = [x for x in left if x["id"] != parent]
                parent = str(pm.get("parent") or "")
            self._rebuild_index()
            for g in gone:
                self._collect(g)
        return events

    def _references(self) -> tuple[set[str], set[str]] | None:
        """Hex digests of the blobs and unpacked layers (diff_ids) the images use, or None when
        an image cannot be read (then nothing may be deleted). Caller holds the lock."""
        blobs: set[str] = set()
        layers: set[str] = set()
        for im in self.images():
            try:
                blobs.update((hex_of(im.id), hex_of(im.meta["manifest"]["digest"])))
                blobs.update(hex_of(layer["digest"]) for layer in im.manifest.get("layers", []))
                layers.update(hex_of(d) for d in im.diff_ids)
            except (NotFound, ValueError, InvalidArgument):
                return None
        return blobs, layers

    def _delete_blob(self, hexd: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.blobs / hexd).unlink()
        with contextlib.suppress(FileNotFoundError):
            (self.ctx.images_dir / "sources" / (hexd + ".json")).unlink()

    def _delete_layer(self, hexd: str) -> None:
        p = self.ctx.layers_dir / hexd
        if p.exists():
            tmp = self.tmp_dir("rm-")
            with contextlib.suppress(FileNotFoundError):
                os.rename(p, tmp / "l")
            _rmtree(tmp)
        with contextlib.suppress(FileNotFoundError):
            (self.layer_meta_dir / (hexd + ".json")).unlink()

    def _collect(self, gone: Image) -> None:
        """Delete the blobs and layer dirs of a removed image that no other image uses
        (caller holds the lock)."""
        refs = self._references()
        if refs is None:
            return
        try:
            blobs = {hex_of(gone.id), hex_of(gone.meta["manifest"]["digest"])}
            blobs.update(hex_of(layer["digest"]) for layer in gone.manifest.get("layers", []))
            layers = {hex_of(d) for d in gone.diff_ids}
        except (NotFound, ValueError, InvalidArgument):
            return
        for h in blobs - refs[0]:
            self._delete_blob(h)
        for h in layers - refs[1]:
            self._delete_layer(h)

    def collect_unreferenced(self, min_age: float = 600.0) -> int:
        """Delete blobs and unpacked layers that no image references and that are older than
        `min_age` seconds: what interrupted pulls or loads left (the next pull of the same
        image would have reused it). Younger content may belong to a pull in progress and is
        kept. Returns the unpacked bytes freed."""
        cutoff = time.time() - min_age

        def old(p: Path) -> bool:
            try:
                return p.lstat().st_mtime < cutoff
            except FileNotFoundError:
                return False

        freed = 0
        with locked(self.ctx, "images"):
            refs = self._references()
            if refs is None:
                return 0
            for name in _listdir(self.blobs):
                if name not in refs[0] and len(name) == 64 and old(self.blobs / name):
                    self._delete_blob(name)
            for name in _listdir(self.ctx.layers_dir):
                meta = self.layer_meta_dir / (name + ".json")
                if name in refs[1] or len(name) != 64 or not old(meta if meta.exists() else
                                                                 self.ctx.layers_dir / name):
                    continue
                freed += int((read_json(meta, {}) or {}).get("size", 0))
                self._delete_layer(name)
        return freed

    def cleanup_tmp(self) -> None:
        """Remove staging entries whose process is gone (an interrupted pull, load...)."""
        import re

        for p in self.tmp.iterdir():
            m = re.match(r"^[a-z-]+?-(\d+)-", p.name)
            if not m:
                continue
            pid = int(m.group(1))
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
                continue  # still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            with contextlib.suppress(OSError):
                if p.is_dir() and not p.is_symlink():
                    _rmtree(p)
                else:
                    p.unlink()


def _listdir(p: Path) -> list[str]:
    try:
        return os.listdir(p)
    except FileNotFoundError:
        return []


def _rmtree(p: Path) -> None:
    """rm -rf that copes with the immutable-free but odd content of layers (whiteouts, modes)."""
    def onerr(func, path, exc):  # type: ignore[no-untyped-def]
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            func(path)

    shutil.rmtree(p, onerror=onerr)
