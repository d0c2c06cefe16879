"""The build cache: step key -> the image the step produced.

Like Docker's classic builder, every step's result is an (untagged) image in the store whose
parent is the previous step's image, so a cache hit costs one small file read and reuses the
layer with no container run. Keys live under `<root>/builds/cache/<k[:2]>/<k>` and hold the
image ID; an entry whose image was removed is a miss.

A key is sha256 over: the parent image ID (or "scratch"), the instruction after word
expansion, and what else decides the result (build args visible to RUN, the digest of the
files COPY/ADD copy: names, types, modes, owners and contents; `--chown`/`--chmod` are in
the instruction text). The image config of a cached step, `created` times included, is reused as
is: two builds of the same input give the same image ID.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.util.fs import atomic_write

if TYPE_CHECKING:
    from engine.context import Context
    from engine.images.store import Image, ImageStore


def step_key(parent: str, parts: list[Any]) -> str:
    blob = json.dumps([parent, *parts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class BuildCache:
    def __init__(self, ctx: Context, store: ImageStore) -> None:
        self.dir = ctx.builds_dir / "cache"
        self.store = store

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / key

    def get(self, key: str) -> Image | None:
        try:
            image_id = self._path(key).read_text().strip()
        except FileNotFoundError:
            return None
        return self.store.get(image_id)

    def put(self, key: str, image: Image) -> None:
        atomic_write(self._path(key), image.id + "\n")
