"""`berth push`: HEAD each blob first, try a cross-repository mount from a repository the blob
is known to be in, else upload it (monolithic, or chunked with PATCH when a chunk size is
given), then PUT the manifest exactly as stored (so digests are identical)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from engine.errors import InvalidArgument, RegistryError
from engine.images import reference as refmod
from engine.images.progress import Progress
from engine.images.registry.client import RegistryClient
from engine.images.store import ImageStore

if TYPE_CHECKING:
    from engine.context import Context


def _short(d: str) -> str:
    return d.split(":", 1)[-1][:12]


def _with_query(location: str, **q: str) -> str:
    sep = "&" if "?" in location else "?"
    return location + sep + urlencode(q)


class Pusher:
    def __init__(self, ctx: Context, store: ImageStore, client: RegistryClient, ref: refmod.Reference,
                 prog: Progress, chunk_size: int | None) -> None:
        self.ctx, self.store, self.client, self.ref, self.prog = ctx, store, client, ref, prog
        self.chunk_size = chunk_size

    def push_blob(self, desc: dict[str, Any], show: bool = True) -> str:
        """Push one blob; `show` False keeps it out of the progress display (the config, like
        docker, which lists only layers)."""
        digest, size = desc["digest"], desc["size"]
        prog = self.prog if show else Progress(quiet=True)
        path = self.store.blob_path(digest)
        key = _short(digest)
        repo = self.ref.path
        r = self.client.request("HEAD", f"/v2/{repo}/blobs/{digest}", ok=(200, 404), what=f"blob {digest}")
        if r.status == 200:
            prog.update(key, "Layer already exists")
            return "exists"
        location = None
        for src in self.store.blob_sources(digest):
            dom, _, spath = src.partition("/")
            if dom != self.ref.domain or spath == repo:
                continue
            q = urlencode({"mount": digest, "from": spath})
            r = self.client.request("POST", f"/v2/{repo}/blobs/uploads/?{q}", ok=(201, 202),
                                    what=f"mount of blob {digest}", extra_scopes=[f"repository:{spath}:pull"])
            if r.status == 201:
                prog.update(key, f"Mounted from {refmod.parse(src).familiar_name()}")
                return "mounted"
            location = r.header("Location")
            break
        if not location:
            r = self.client.request("POST", f"/v2/{repo}/blobs/uploads/", ok=(202,), what=f"upload of blob {digest}")
            location = r.header("Location")
        if not location:
            raise RegistryError(f"registry {self.ref.domain}: upload of {digest} started without a Location",
                                field="registry")
        prog.update(key, "Pushing")
        if self.chunk_size and size > self.chunk_size:
            offset = 0
            with open(path, "rb") as f:
                while offset < size:
                    chunk = f.read(self.chunk_size)
                    end = offset + len(chunk) - 1
                    r = self.client.request("PATCH", location, {
                        "Content-Type": "application/octet-stream", "Content-Length": str(len(chunk)),
                        "Content-Range": f"{offset}-{end}"}, chunk, ok=(202,), what=f"upload of blob {digest}")
                    location = r.header("Location") or location
                    offset += len(chunk)
                    prog.update(key, "Pushing", offset, size)
            self.client.request("PUT", _with_query(location, digest=digest), {"Content-Length": "0"}, None,
                                ok=(201, 204), what=f"upload of blob {digest}")
        else:
            self.client.request("PUT", _with_query(location, digest=digest), {
                "Content-Type": "application/octet-stream", "Content-Length": str(size)},
                lambda: open(path, "rb"), ok=(201, 204), what=f"upload of blob {digest}")
        prog.update(key, "Pushed")
        return "pushed"


def push(ctx: Context, ref_s: str, quiet: bool = True, chunk_size: int | None = None,
         progress: Progress | None = None) -> dict[str, Any]:
    ref = refmod.parse(ref_s)
    if ref.digest:
        raise InvalidArgument(f"cannot push a digest reference {ref_s!r}: push a tag", field="reference")
    store = ImageStore(ctx)
    img = store.resolve(str(ref))
    prog = progress or Progress(quiet=quiet)
    client = RegistryClient(ctx, ref.domain, ref.path, actions=("pull", "push"))
    try:
        prog.line(f"The push refers to repository [{ref.name}]")
        manifest = img.manifest
        layers = list(manifest.get("layers", []))
        p = Pusher(ctx, store, client, ref, prog, chunk_size)
        workers = max(1, min(int(ctx.config.max_concurrent_downloads), len(layers) or 1))
        for layer in layers:
            if not store.has_blob(layer["digest"]):
                raise RegistryError(f"blob {layer['digest']} of {ref.familiar()} is missing from the store",
                                    field="image")
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(p.push_blob, layers))
        p.push_blob(manifest["config"], show=False)
        mdesc = img.manifest_descriptor
        body = store.read_blob(mdesc["digest"])
        r = client.request("PUT", f"/v2/{ref.path}/manifests/{quote(ref.tag or 'latest')}",
                           {"Content-Type": mdesc["mediaType"], "Content-Length": str(len(body))}, body,
                           ok=(201, 200, 202), what=f"manifest for {ref.familiar()}")
        got = r.header("Docker-Content-Digest")
        if got and got != mdesc["digest"]:
            raise RegistryError(f"registry stored the manifest of {ref.familiar()} as {got}, expected "
                                f"{mdesc['digest']}", field="registry")
        store.add_repo_digest(img.id, f"{ref.name}@{mdesc['digest']}")
        for layer in layers:
            store.note_blob_source(layer["digest"], f"{ref.domain}/{ref.path}")
        prog.line(f"{ref.tag}: digest: {mdesc['digest']} size: {len(body)}")
        return {"Tag": ref.tag, "Digest": mdesc["digest"], "Size": len(body), "Layers": results,
                "Reference": ref.familiar(), "Id": img.id}
    finally:
        client.close()
