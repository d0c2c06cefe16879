"""`berth pull`: manifest (or index -> platform manifest), config, then the layers in parallel,
each streamed from the registry straight into its unpack directory while the compressed blob
is saved and hashed. Nothing is used before its digest is checked: a layer directory appears
only after its blob digest, size and diff ID all matched. A dropped connection resumes with a
Range request."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
from concurrent.futures import CancelledError, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from engine.errors import BerthError, RegistryError
from engine.images import manifests as mf
from engine.images import reference as refmod
from engine.images.progress import Progress
from engine.images.registry.client import RegistryClient, abort
from engine.images.registry.errors import RetryableError
from engine.images.store import Image, ImageStore

if TYPE_CHECKING:
    from engine.context import Context

MAX_RESUMES = 4


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


class BlobReader:
    """A file-like over a blob download: saves to `sink`, hashes, counts, and on a short read
    or a dropped connection re-requests the rest with `Range`."""

    def __init__(self, client: RegistryClient, repo: str, desc: dict[str, Any], sink: Any,
                 progress: Progress | None = None, key: str = "") -> None:
        self.client, self.repo, self.desc, self.sink = client, repo, desc, sink
        self.digest: str = desc["digest"]
        self.size: int = desc["size"]
        self.h = hashlib.sha256()
        self.offset = 0
        self.resumes = 0
        self.resp: http.client.HTTPResponse | None = None
        self.progress, self.key = progress, key

    def _open(self) -> None:
        headers = {}
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
        r = self.client.request("GET", f"/v2/{self.repo}/blobs/{self.digest}", headers, stream=True,
                                ok=(200, 206), what=f"blob {self.digest}")
        assert r.raw is not None
        if self.offset and r.status == 200:  # no Range support: skip what we have
            left = self.offset
            while left:
                b = r.raw.read(min(left, 1 << 20))
                if not b:
                    raise RetryableError(f"blob {self.digest}: short body while resuming", field="blob")
                left -= len(b)
        elif self.offset and r.status == 206:
            cr = r.header("Content-Range")
            if cr and not cr.replace("bytes ", "").startswith(f"{self.offset}-"):
                raise RegistryError(f"blob {self.digest}: registry answered Range {self.offset}- with {cr!r}",
                                    field="blob")
        self.resp = r.raw

    def read(self, n: int = -1) -> bytes:
        want = n if n and n > 0 else 1 << 20
        while True:
            if self.offset >= self.size:
                # expect EOF; anything more is a lie about the size
                if self.resp is not None:
                    extra = self.resp.read(1)
                    if extra:
                        abort(self.resp)
                        raise RegistryError(f"blob {self.digest}: larger than its declared size {self.size}",
                                            field="blob")
                return b""
            b = b""
            try:
                if self.resp is None:
                    self._open()
                assert self.resp is not None
                b = self.resp.read(min(want, self.size - self.offset))
            except (OSError, http.client.HTTPException, RetryableError):
                b = b""
            if b:
                self.h.update(b)
                self.sink.write(b)
                self.offset += len(b)
                if self.progress:
                    self.progress.update(self.key, "Downloading", self.offset, self.size)
                return b
            # short read: the connection dropped or the body was truncated
            if self.resp is not None:
                abort(self.resp)
                self.resp = None
            self.resumes += 1
            if self.resumes > MAX_RESUMES:
                raise RegistryError(f"blob {self.digest}: body truncated at {self.offset} of {self.size} bytes "
                                    f"(gave up after {MAX_RESUMES} resumed requests)", field="blob")

    def readable(self) -> bool:
        return True

    def finish(self) -> None:
        while self.read(1 << 20):
            pass
        if self.resp is not None:
            self.resp.close()
            self.resp = None
        got = "sha256:" + self.h.hexdigest()
        if self.offset != self.size:
            raise RegistryError(f"blob {self.digest}: got {self.offset} bytes, expected {self.size}", field="blob")
        if got != self.digest:
            raise RegistryError(f"blob {self.digest}: content does not match its digest (got {got}): refused",
                                field="blob")


def fetch_small(client: RegistryClient, repo: str, desc: dict[str, Any], limit: int, what: str) -> bytes:
    if desc["size"] > limit:
        raise RegistryError(f"{what} {desc['digest']}: size {desc['size']} exceeds the limit {limit}", field="blob")
    import io

    sink = io.BytesIO()
    r = BlobReader(client, repo, desc, sink)
    r.finish()
    return sink.getvalue()


def _fetch_manifest(client: RegistryClient, ref: refmod.Reference, tag_or_digest: str,
                    expect: dict[str, Any] | None) -> tuple[bytes, str, str, dict[str, Any]]:
    what = f"manifest for {ref.familiar_name()}:{tag_or_digest}" if not tag_or_digest.startswith("sha256:") \
        else f"manifest {ref.familiar_name()}@{tag_or_digest}"
    r = client.request("GET", f"/v2/{ref.path}/manifests/{tag_or_digest}", {"Accept": mf.ACCEPT}, what=what)
    body = r.body
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if tag_or_digest.startswith("sha256:") and digest != tag_or_digest:
        raise RegistryError(f"{what}: content does not match its digest (got {digest}): refused", field="manifest")
    if expect is not None and len(body) != expect["size"]:
        raise RegistryError(f"{what}: size {len(body)} differs from the index's {expect['size']}: refused",
                            field="manifest")
    hdr = r.header("Docker-Content-Digest")
    if hdr.startswith("sha256:") and hdr != digest:
        raise RegistryError(f"{what}: content does not match the registry's digest {hdr} (got {digest}): refused",
                            field="manifest")
    kind, mt, doc = mf.classify(body, r.header("Content-Type"), what)
    return body, digest, kind, {"mediaType": mt, "doc": doc}


def pull(ctx: Context, ref_s: str, platform: str | None = None, quiet: bool = True,
         progress: Progress | None = None) -> Image:
    ref = refmod.parse(ref_s)
    store = ImageStore(ctx)
    store.ensure_layout()
    store.cleanup_tmp()
    prog = progress or Progress(quiet=quiet)
    want = mf.parse_platform(platform)
    client = RegistryClient(ctx, ref.domain, ref.path)
    try:
        return _pull(ctx, store, client, ref, want, platform is not None, prog)
    finally:
        client.close()


def _pull(ctx: Context, store: ImageStore, client: RegistryClient, ref: refmod.Reference,
          want: dict[str, str], explicit_platform: bool, prog: Progress) -> Image:
    top = ref.digest or ref.tag or "latest"
    prog.line(f"{ref.digest or ref.tag}: Pulling from {ref.path}")  # docker: the path, without the registry
    while True:
        try:
            body, top_digest, kind, info = _fetch_manifest(client, ref, top, None)
            break
        except BerthError:
            if not client.skip_mirror():  # a mirror without the image: go to the registry itself
                raise
    manifest_bytes, mt, doc = body, info["mediaType"], info["doc"]
    if kind == "index":
        desc = mf.select_platform(doc, want, f"{ref.familiar()}")
        manifest_bytes, _d, kind2, info2 = _fetch_manifest(client, ref, desc["digest"], desc)
        if kind2 != "manifest":
            raise RegistryError(f"{ref.familiar()}: index entry {desc['digest']} is not an image manifest",
                                field="manifest")
        mt, doc = info2["mediaType"], info2["doc"]
    cfg_desc = doc["config"]
    if store.has_blob(cfg_desc["digest"]):
        config_bytes = store.read_blob(cfg_desc["digest"])
    else:
        config_bytes = fetch_small(client, ref.path, cfg_desc, mf.MAX_CONFIG_SIZE, "config")
    try:
        config = json.loads(config_bytes)
        diff_ids = list(config["rootfs"]["diff_ids"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"{ref.familiar()}: image config {cfg_desc['digest']} is malformed (no rootfs.diff_ids)",
                            field="config") from None
    layers = doc["layers"]
    if len(diff_ids) != len(layers):
        raise RegistryError(f"{ref.familiar()}: manifest has {len(layers)} layers but the config lists "
                            f"{len(diff_ids)} diff IDs", field="manifest")
    if explicit_platform and kind == "manifest" and (config.get("os"), config.get("architecture")) != \
            (want["os"], want["architecture"]):
        raise RegistryError(f"{ref.familiar()}: image is {mf.platform_str(config)}, not the requested "
                            f"{mf.platform_str(want)}", field="platform")
    for layer, diff_id in zip(layers, diff_ids, strict=True):
        if not (store.has_blob(layer["digest"]) and store.has_layer(diff_id)):  # else "Already exists"
            prog.update(_short(layer["digest"]), "Pulling fs layer")
    workers = max(1, int(ctx.config.max_concurrent_downloads))
    repo = f"{ref.domain}/{ref.path}"

    def one(i: int) -> None:
        _fetch_layer(client, store, ref.path, layers[i], diff_ids[i], prog)
        store.note_blob_source(layers[i]["digest"], repo)

    if workers == 1 or len(layers) <= 1:
        for i in range(len(layers)):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(layers))) as ex:
            futs = [ex.submit(one, i) for i in range(len(layers))]
            errs = []
            for f in futs:
                try:
                    f.result()
                except BaseException as e:  # noqa: BLE001 - report the first, after all stopped
                    errs.append(e)
                    for other in futs:  # layers not started yet are not worth fetching now
                        other.cancel()
            errs = [e for e in errs if not isinstance(e, CancelledError)]
            if errs:
                raise errs[0]
    tags = [str(ref)] if ref.tag and not ref.digest else []
    cfg_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    before = store.get(cfg_id)
    up_to_date = before is not None and (not tags or tags[0] in before.tags)
    img = None
    for attempt in range(3):
        try:
            img = store.add_image(manifest_bytes, config_bytes, tags, [f"{ref.name}@{top_digest}"],
                                  manifest_media_type=mt)
            break
        except BerthError as e:
            if "retry" not in e.message or attempt == 2:
                raise
            for i in range(len(layers)):  # something was removed meanwhile: fetch again
                _fetch_layer(client, store, ref.path, layers[i], diff_ids[i], prog)
    assert img is not None
    prog.line(f"Digest: {top_digest}")
    prog.line(f"Status: {'Image is up to date' if up_to_date else 'Downloaded newer image'} for {ref.familiar()}")
    return img


def _fetch_layer(client: RegistryClient, store: ImageStore, repo: str, desc: dict[str, Any], diff_id: str,
                 prog: Progress) -> None:
    key = _short(desc["digest"])
    digest = desc["digest"]
    if store.has_blob(digest) and store.has_layer(diff_id):
        prog.update(key, "Already exists")
        return
    if store.has_blob(digest):
        bp = store.blob_path(digest)
        with open(bp, "rb") as f:
            store.ensure_layer_from_stream(f, diff_id, reopen=lambda: open(bp, "rb"))  # type: ignore[arg-type]
        prog.update(key, "Pull complete")
        return
    sink, tmp = store.tmp_file("pull-")
    try:
        with sink:
            reader = BlobReader(client, repo, desc, sink, prog, key)

            def verify() -> None:
                reader.finish()
                sink.flush()

            if store.has_layer(diff_id):
                verify()
            else:
                try:
                    def reopen() -> Any:
                        sink.flush()
                        return open(tmp, "rb")

                    store.ensure_layer_from_stream(reader, diff_id, before_install=verify,  # type: ignore[arg-type]
                                                   reopen=reopen)
                except BerthError:
                    # a corrupt layer is most often a blob that is not what it claims: say so
                    with contextlib.suppress(BerthError, OSError):
                        reader.finish()
                    if reader.offset == reader.size and "sha256:" + reader.h.hexdigest() != digest:
                        raise RegistryError(f"blob {digest}: content does not match its digest: refused",
                                            field="blob") from None
                    raise
            store.adopt_blob_file(tmp, digest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    prog.update(key, "Pull complete")
