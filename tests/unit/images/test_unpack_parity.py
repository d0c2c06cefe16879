"""The two unpack paths (Python unpacker; validation here + GNU tar writing) must make the same
tree, or refuse alike, for random archives in GNU, PAX and USTAR formats: long and non-ASCII
names, symlinks (absolute, `..`), hardlinks, whiteouts, opaque markers, FIFOs, devices,
xattrs, large files."""

from __future__ import annotations

import io
import os
import random
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

import pytest

from engine.images import layers as L

pytestmark = pytest.mark.requires("root")


def tree(d: Path) -> list[tuple]:
    out = []
    for dp, dns, fns in os.walk(d):
        for n in sorted(dns + fns):
            p = os.path.join(dp, n)
            st = os.lstat(p)
            whiteout = stat.S_ISCHR(st.st_mode) and st.st_rdev == 0  # made at the end: mtime differs
            item: tuple = (os.path.relpath(p, d), stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid,
                           st.st_gid, 0 if stat.S_ISDIR(st.st_mode) or whiteout else int(st.st_mtime))
            if stat.S_ISREG(st.st_mode):
                item += (hash(Path(p).read_bytes()),)
            if stat.S_ISLNK(st.st_mode):
                item += (os.readlink(p),)
            if stat.S_ISCHR(st.st_mode):
                item += (st.st_rdev,)
            item += (tuple(sorted((k, os.getxattr(p, k, follow_symlinks=False))
                                  for k in os.listxattr(p, follow_symlinks=False))),)
            out.append(item)
    return out


def random_archive(rng: random.Random) -> bytes:
    fmt = rng.choice([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
    buf = io.BytesIO()
    files: list[str] = []
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for i in range(rng.randint(1, 25)):
            comps = [rng.choice(["a", "b", "é", "x" * rng.randint(1, 90), "dir", ".wh.a", ".wh..wh..opq"])
                     for _ in range(rng.randint(0, 4))] + [f"n{i}" + "y" * rng.randint(0, 150)]
            if fmt == tarfile.USTAR_FORMAT:
                comps = [c.replace("é", "e") for c in comps]
                if len("/".join(comps)) > 250 or any(len(c) > 100 for c in comps):
                    comps = [comps[-1][:90]]
            name = "/".join(comps)
            kind = rng.choice(["file", "file", "dir", "sym", "hard", "fifo", "chr", "wh"])
            if kind == "wh":
                head, _, base = name.rpartition("/")
                name = (head + "/" if head else "") + ".wh." + base
            ti = tarfile.TarInfo(name)
            ti.mtime = 1600000000 + i
            ti.mode = rng.choice([0o644, 0o755, 0o600, 0o4755])
            ti.uid, ti.gid = rng.choice([0, 1000]), rng.choice([0, 50])
            data = None
            if kind == "file":
                data = os.urandom(rng.choice([0, 1, 511, 512, 513, 5000, 1_500_000 if rng.random() < 0.05 else 100]))
                ti.size = len(data)
                if fmt == tarfile.PAX_FORMAT and rng.random() < 0.3:
                    ti.pax_headers = {"SCHILY.xattr.user.k": f"v{i}"}
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, rng.choice(["a", "/abs/x" * rng.randint(1, 30), "../up"])
            elif kind == "hard":
                if not files:
                    continue
                ti.type, ti.linkname = tarfile.LNKTYPE, rng.choice(files)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            try:
                tf.addfile(ti, io.BytesIO(data) if data is not None else None)
            except ValueError:
                continue
            if kind == "file":
                files.append(name)
    return buf.getvalue()


def run(raw: bytes, python: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    d = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="berth-parity-"))
    try:
        if python:
            monkeypatch.setenv("BERTH_UNPACKER", "python")
        else:
            monkeypatch.delenv("BERTH_UNPACKER", raising=False)
        try:
            L.unpack_compressed(io.BytesIO(raw), d, reopen=lambda: io.BytesIO(raw))
            return ("ok", tree(d))
        except L.LayerError as e:
            return ("refused", e.message.split(":")[0])
    finally:
        shutil.rmtree(d)


@pytest.mark.parametrize("seed", range(6))
def test_both_paths_agree(seed, monkeypatch):
    rng = random.Random(seed)
    for _ in range(6):
        raw = random_archive(rng)
        assert run(raw, True, monkeypatch) == run(raw, False, monkeypatch)
