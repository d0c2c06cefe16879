"""Generate the benchmark image as an OCI layout: ~150 MB in three layers (many small files,
one large file, one tiny layer), plus the same layers as .tar.gz files for the tar floor.

usage: pull_make_image.py OUT_DIR [SCALE]   (SCALE 1.0 = ~150 MB)"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile
from pathlib import Path


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dirs: set[str] = set()
        for name, data in entries:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                    tf.addfile(ti)
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def text_like(rng: random.Random, n: int) -> bytes:
    """Compressible-ish content (like source files): random words."""
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz_", k=rng.randint(2, 10))) for _ in range(2000)]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
    return bytes(out[:n])


def main() -> None:
    out = Path(sys.argv[1])
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = random.Random(42)
    text = text_like(rng, 4_000_000)
    noise = os.urandom(4_000_000)
    small = []
    n_small = int(12000 * scale)
    for i in range(n_small):
        size = rng.randint(200, 8000)
        src = text if i % 2 else noise
        off = rng.randint(0, len(src) - size)
        small.append((f"usr/lib/app/m{i // 500:03d}/f{i:06d}.dat", src[off:off + size]))
    layers = [
        layer(small),                                                   # ~50 MB, many small files
        layer([("opt/big/data.bin", os.urandom(int(95 * scale * 1e6)))]),  # one large file
        layer([("etc/bench-version", b"1\n")]),                         # tiny layer
    ]
    (out / "oci" / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (out / "layers").mkdir(exist_ok=True)
    descs = []
    for i, raw in enumerate(layers):
        gz = gzip.compress(raw, compresslevel=6, mtime=0)
        (out / "oci" / "blobs" / "sha256" / sha(gz)[7:]).write_bytes(gz)
        (out / "layers" / f"layer{i}.tar.gz").write_bytes(gz)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(gz), "size": len(gz)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                      "config": {"Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": [sha(r) for r in layers]}}).encode()
    (out / "oci" / "blobs" / "sha256" / sha(cfg)[7:]).write_bytes(cfg)
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
                                 "size": len(cfg)}, "layers": descs}).encode()
    (out / "oci" / "blobs" / "sha256" / sha(man)[7:]).write_bytes(man)
    (out / "oci" / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (out / "oci" / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
    total = sum(d["size"] for d in descs)
    print(f"image: {len(layers)} layers, {n_small} small files, {total / 1e6:.0f} MB compressed, "
          f"{sum(len(r) for r in layers) / 1e6:.0f} MB uncompressed", file=sys.stderr)


if __name__ == "__main__":
    main()
