"""`save` / `load`: archives in the format of `docker save` (Docker 25+), which is at the same
time an OCI image layout: `manifest.json` + `repositories` for `docker load`, `oci-layout` +
`index.json` + `blobs/sha256/...` (uncompressed layer tars) for OCI tools. `load` accepts that,
the older docker-save layout (`<id>/layer.tar`), and plain OCI-layout archives."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from engine.errors import BerthError, InvalidArgument, NotFound
from engine.images import manifests as mf
from engine.images import reference as refmod
from engine.images.store import (
    MT_OCI_CONFIG,
    MT_OCI_INDEX,
    MT_OCI_LAYER,
    MT_OCI_LAYER_GZIP,
    MT_OCI_LAYER_ZSTD,
    MT_OCI_MANIFEST,
    Image,
    ImageStore,
    hex_of,
)

if TYPE_CHECKING:
    from engine.context import Context


class ArchiveError(BerthError):
    type = "invalid_archive"


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
    tf.addfile(ti, io.BytesIO(data))


def _dir(tf: tarfile.TarFile, name: str) -> None:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
    tf.addfile(ti)


def save(ctx: Context, names: list[str], out: BinaryIO) -> list[str]:
    from engine.images.layers import open_decompressed

    store = ImageStore(ctx)
    chosen: list[tuple[Image, list[str]]] = []
    for n in names:
        img = store.resolve(n)
        tags: list[str] = []
        if not n.startswith("sha256:") and refmod.is_reference_like(n):
            r = refmod.parse(n)
            if str(r) in img.tags:
                tags = [str(r)]
            elif not r.digest:
                tags = []
        entry = next((c for c in chosen if c[0].id == img.id), None)
        if entry:
            entry[1].extend(t for t in tags if t not in entry[1])
        else:
            chosen.append((img, tags))
    written: set[str] = set()
    manifest_json: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    index: list[dict[str, Any]] = []
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:  # type: ignore[call-overload]
        _dir(tf, "blobs")
        _dir(tf, "blobs/sha256")
        for img, tags in chosen:
            diff_ids = img.diff_ids
            layers_out = []
            for desc, diff_id in zip(img.manifest.get("layers", []), diff_ids, strict=True):
                h = hex_of(diff_id)
                info = store.layer_info(diff_id)
                size = info.get("tar_size")
                if h not in written:
                    with open(store.blob_path(desc["digest"]), "rb") as raw:
                        stream, _k = open_decompressed(raw)  # type: ignore[arg-type]
                        if size is None:
                            data = stream.read()
                            size = len(data)
                            stream = io.BytesIO(data)
                        ti = tarfile.TarInfo(f"blobs/sha256/{h}")
                        ti.size, ti.mode, ti.mtime = int(size), 0o644, 0
                        tf.addfile(ti, stream)
                    written.add(h)
                elif size is None:
                    size = 0
                layers_out.append({"mediaType": MT_OCI_LAYER, "digest": diff_id, "size": int(size)})
            cfg = store.read_blob(img.id)
            if img.id not in written:
                _add_bytes(tf, f"blobs/sha256/{hex_of(img.id)}", cfg)
                written.add(img.id)
            man = json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                              "config": {"mediaType": MT_OCI_CONFIG, "digest": img.id, "size": len(cfg)},
                              "layers": layers_out}, separators=(",", ":")).encode()
            mdig = "sha256:" + hashlib.sha256(man).hexdigest()
            if mdig not in written:
                _add_bytes(tf, f"blobs/sha256/{hex_of(mdig)}", man)
                written.add(mdig)
            fam = [refmod.parse(t).familiar() for t in tags]
            manifest_json.append({"Config": f"blobs/sha256/{hex_of(img.id)}", "RepoTags": fam or None,
                                  "Layers": [f"blobs/sha256/{hex_of(d)}" for d in diff_ids]})
            desc = {"mediaType": MT_OCI_MANIFEST, "digest": mdig, "size": len(man)}
            if tags:
                for t in tags:
                    r = refmod.parse(t)
                    index.append({**desc, "annotations": {"io.containerd.image.name": str(r),
                                                          "org.opencontainers.image.ref.name": r.tag}})
                    if diff_ids:
                        repositories.setdefault(r.familiar_name(), {})[r.tag or "latest"] = hex_of(diff_ids[-1])
            else:
                index.append(desc)
        _add_bytes(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(tf, "index.json", json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                                                 "manifests": index}).encode())
        _add_bytes(tf, "manifest.json", json.dumps(manifest_json).encode())
        if repositories:
            _add_bytes(tf, "repositories", json.dumps(repositories).encode())
    return [c[0].id for c in chosen]


# ---------------------------------------------------------------------------- load


class _Archive:
    def __init__(self, tf: tarfile.TarFile) -> None:
        self.tf = tf
        self.members: dict[str, tarfile.TarInfo] = {}
        for m in tf.getmembers():
            name = m.name
            while name.startswith("./"):
                name = name[2:]
            name = name.strip("/")
            if m.isreg() or m.islnk() or m.issym():
                self.members[name] = m

    def has(self, name: str) -> bool:
        return name in self.members

    def open(self, name: str) -> IO[bytes]:
        m = self.members.get(name.strip("/").removeprefix("./"))
        if m is None:
            raise ArchiveError(f"archive: {name!r} is missing", field="archive")
        for _ in range(8):
            if m.issym() or m.islnk():  # old docker-save layouts symlink shared layers
                target = m.linkname if m.islnk() else os.path.normpath(os.path.join(os.path.dirname(m.name),
                                                                                      m.linkname))
                m2 = self.members.get(target.strip("/").removeprefix("./"))
                if m2 is None:
                    raise ArchiveError(f"archive: {name!r} links to missing {m.linkname!r}", field="archive")
                m = m2
                continue
            f = self.tf.extractfile(m)
            if f is None:
                raise ArchiveError(f"archive: {name!r} is not a file", field="archive")
            return f
        raise ArchiveError(f"archive: {name!r}: too many links", field="archive")

    def read(self, name: str, limit: int = 64 << 20) -> bytes:
        f = self.open(name)
        data = f.read(limit + 1)
        if len(data) > limit:
            raise ArchiveError(f"archive: {name!r} is too large", field="archive")
        return data

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except ValueError:
            raise ArchiveError(f"archive: {name!r} is not valid JSON", field="archive") from None


def _store_layer(store: ImageStore, src: IO[bytes], expect_diff_id: str,
                 expect_blob: str | None = None) -> dict[str, Any]:
    """Copy a layer (compressed or not) out of the archive into the store."""
    from engine.images.layers import detect_compression

    out, tmp = store.tmp_file("load-")
    h = hashlib.sha256()
    head = b""
    try:
        with out:
            while True:
                b = src.read(1 << 20)
                if not b:
                    break
                if len(head) < 8:
                    head += b[:8]
                h.update(b)
                out.write(b)
        digest = "sha256:" + h.hexdigest()
        if expect_blob and digest != expect_blob:
            raise ArchiveError(f"archive: blob {expect_blob} does not match its digest (got {digest})", field="archive")
        kind = detect_compression(head)
        if kind == "none":
            desc, diff_id = store.put_layer_tar(tmp)
            if diff_id != expect_diff_id:
                raise ArchiveError(f"archive: layer diff ID {diff_id} does not match the config's {expect_diff_id}",
                                   field="archive")
            return desc
        with open(tmp, "rb") as f:
            store.ensure_layer_from_stream(f, expect_diff_id, reopen=lambda: open(tmp, "rb"))
        store.adopt_blob_file(tmp, digest)
        mt = {"gzip": MT_OCI_LAYER_GZIP, "zstd": MT_OCI_LAYER_ZSTD}.get(kind)
        if mt is None:
            raise ArchiveError(f"archive: layer compression {kind!r} is not supported", field="archive")
        return {"mediaType": mt, "digest": digest, "size": os.path.getsize(store.blob_path(digest))}
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _load_one(store: ImageStore, config_bytes: bytes, layer_srcs: list[Any], tags: list[str]) -> Image:
    try:
        config = json.loads(config_bytes)
        diff_ids = list(config["rootfs"]["diff_ids"])
    except (ValueError, KeyError, TypeError):
        raise ArchiveError("archive: image config has no rootfs.diff_ids", field="archive") from None
    if len(diff_ids) != len(layer_srcs):
        raise ArchiveError(f"archive: {len(layer_srcs)} layers but the config lists {len(diff_ids)}", field="archive")
    descs = []
    for (opener, expect_blob), diff_id in zip(layer_srcs, diff_ids, strict=True):
        descs.append(_store_layer(store, opener(), diff_id, expect_blob))
    cfg_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    man = json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                      "config": {"mediaType": MT_OCI_CONFIG, "digest": cfg_digest, "size": len(config_bytes)},
                      "layers": descs}, separators=(",", ":")).encode()
    return store.add_image(man, config_bytes, tags)


def load(ctx: Context, src: BinaryIO | Path) -> list[tuple[str, list[str]]]:
    """Load every image of an archive. Returns [(image id, familiar tags)]."""
    store = ImageStore(ctx)
    store.ensure_layout()
    tmp_copy: Path | None = None
    try:
        if not isinstance(src, Path):
            out, tmp_copy = store.tmp_file("load-archive-")
            with out:
                shutil.copyfileobj(src, out, 1 << 20)
            path = tmp_copy
        else:
            path = src
        try:
            tf = tarfile.open(path, "r:*")
        except tarfile.TarError as e:
            raise ArchiveError(f"load: {src if isinstance(src, Path) else 'stdin'} is not a tar archive: {e}",
                               field="input") from None
        with tf:
            a = _Archive(tf)
            if a.has("manifest.json"):
                return _load_docker(store, a)
            if a.has("index.json") and a.has("oci-layout"):
                return _load_oci(store, a)
            raise ArchiveError("load: the archive has neither manifest.json (docker save) nor index.json "
                               "(OCI layout)", field="input")
    finally:
        if tmp_copy is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp_copy.unlink()


def _load_docker(store: ImageStore, a: _Archive) -> list[tuple[str, list[str]]]:
    entries = a.json("manifest.json")
    if not isinstance(entries, list):
        raise ArchiveError("archive: manifest.json is not a list", field="archive")
    out = []
    for e in entries:
        if not isinstance(e, dict) or "Config" not in e or not isinstance(e.get("Layers"), list):
            raise ArchiveError("archive: manifest.json entry lacks Config/Layers", field="archive")
        cfg = a.read(e["Config"])
        name = e["Config"].rsplit("/", 1)[-1].removesuffix(".json")
        if len(name) == 64 and "sha256:" + hashlib.sha256(cfg).hexdigest() != "sha256:" + name:
            raise ArchiveError(f"archive: config {e['Config']!r} does not match its digest", field="archive")
        srcs = []
        for lp in e["Layers"]:
            blob = None
            base = lp.rsplit("/", 1)[-1]
            if lp.startswith("blobs/sha256/") and len(base) == 64:
                blob = "sha256:" + base
            srcs.append(((lambda p=lp: a.open(p)), blob))
        tags = []
        for t in e.get("RepoTags") or []:
            tags.append(str(refmod.parse(t)))
        img = _load_one(store, cfg, srcs, tags)
        out.append((img.id, [refmod.parse(t).familiar() for t in tags]))
    return out


def _load_oci(store: ImageStore, a: _Archive) -> list[tuple[str, list[str]]]:
    idx = a.json("index.json")
    out = []

    def blob(d: str, limit: int = 64 << 20) -> bytes:
        data = a.read(f"blobs/sha256/{hex_of(d)}", limit)
        if "sha256:" + hashlib.sha256(data).hexdigest() != d:
            raise ArchiveError(f"archive: blob {d} does not match its digest", field="archive")
        return data

    def manifests_of(desc: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
        mt = desc.get("mediaType", MT_OCI_MANIFEST)
        if mt in mf.INDEX_TYPES:
            if depth > 3:
                raise ArchiveError("archive: index nesting too deep", field="archive")
            sub = json.loads(blob(desc["digest"]))
            chosen = mf.select_platform(sub, mf.parse_platform(None), "archive")
            return manifests_of({**chosen, "annotations": desc.get("annotations")}, depth + 1)
        return [desc]

    for top in idx.get("manifests", []):
        for desc in manifests_of(top):
            man = json.loads(blob(desc["digest"]))
            _k, _mt, doc = mf.classify(json.dumps(man).encode(), desc.get("mediaType", ""), "archive manifest")
            cfg = blob(doc["config"]["digest"])
            srcs = [((lambda d=layer["digest"]: a.open(f"blobs/sha256/{hex_of(d)}")), layer["digest"])
                    for layer in doc["layers"]]
            ann = (top.get("annotations") or {})
            tags = []
            name = ann.get("io.containerd.image.name") or ann.get("org.opencontainers.image.ref.name") or ""
            if name and ("/" in name or ":" in name) and refmod.is_reference_like(name):
                tags.append(str(refmod.parse(name)))
            img = _load_one(store, cfg, srcs, tags)
            out.append((img.id, [refmod.parse(t).familiar() for t in tags]))
    if not out:
        raise NotFound("load: the archive's index.json lists no images", field="input")
    return out


def check_output_target(path: str) -> None:
    if os.path.isdir(path):
        raise InvalidArgument(f"save: output {path!r} is a directory", field="output")
