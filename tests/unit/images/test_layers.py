"""Layer unpacking (safety and fidelity) and overlay-upper -> tar, on real files."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from engine.images.layers import LayerError, tar_from_overlay_upper, unpack, unpack_compressed

pytestmark = pytest.mark.requires("root")


def mk(entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            if isinstance(e, tuple):
                ti, data = e
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(e)
    return buf.getvalue()


def ti(name: str, type_: bytes = tarfile.REGTYPE, **kw) -> tarfile.TarInfo:
    t = tarfile.TarInfo(name)
    t.type = type_
    t.mode = kw.pop("mode", 0o755 if type_ == tarfile.DIRTYPE else 0o644)
    t.mtime = kw.pop("mtime", 1600000000)
    for k, v in kw.items():
        setattr(t, k, v)
    return t


@pytest.fixture(params=["python", "gnu-tar"])
def unpacker(request, monkeypatch):
    """Both unpack paths: the Python unpacker, and validation in Python + writing by GNU tar."""
    if request.param == "python":
        monkeypatch.setenv("BERTH_UNPACKER", "python")
    return request.param


def do_unpack(data: bytes, dest: Path) -> int:
    return unpack_compressed(io.BytesIO(data), dest, reopen=lambda: io.BytesIO(data))[1]


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    dest = tmp_path / "layer"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    return dest, outside


@pytest.mark.parametrize("entries,needle", [
    ([(ti("../evil"), b"x")], "'../evil'"),
    ([(ti("a/../../evil"), b"x")], "'a/../../evil'"),
    ([(ti("/abs/evil"), b"x")], "'/abs/evil'"),
    ([ti("link", tarfile.SYMTYPE, linkname="/"), (ti("link/evil"), b"x")], "through the symlink 'link'"),
    ([ti("link", tarfile.SYMTYPE, linkname="../outside"), (ti("link/evil"), b"x")], "through the symlink"),
    ([ti("d", tarfile.DIRTYPE), ti("d/l", tarfile.SYMTYPE, linkname="/etc"), (ti("d/l/passwd"), b"x")],
     "'d/l/passwd'"),
    ([ti("pw", tarfile.LNKTYPE, linkname="/etc/passwd")], "hardlink to '/etc/passwd'"),
    ([ti("pw", tarfile.LNKTYPE, linkname="../outside/x")], "outside the layer"),
    ([ti("pw", tarfile.LNKTYPE, linkname="missing")], "not in the layer"),
    ([ti("l", tarfile.SYMTYPE, linkname="/etc"), ti("pw", tarfile.LNKTYPE, linkname="l/passwd")], "through the symlink"),
    ([ti("x/.wh..."), ], "invalid whiteout"),
])
def test_hostile_entries_refused(sandbox, unpacker, entries, needle):
    dest, outside = sandbox
    before = sorted(os.listdir(outside.parent))
    with pytest.raises(LayerError) as e:
        do_unpack(mk(entries), dest)
    assert needle in e.value.message
    assert sorted(os.listdir(outside.parent)) == before
    assert os.listdir(outside) == []
    assert not Path("/evil").exists() and not Path("/abs").exists()


def test_dir_replaced_by_symlink_keeps_outside_untouched(sandbox, unpacker):
    dest, outside = sandbox
    os.chmod(outside, 0o755)
    data = mk([ti("d", tarfile.DIRTYPE, mode=0o777, uid=4242), ti("d", tarfile.SYMTYPE, linkname=str(outside))])
    do_unpack(data, dest)
    st = outside.stat()
    assert stat.S_IMODE(st.st_mode) == 0o755 and st.st_uid == 0
    assert os.readlink(dest / "d") == str(outside)


def test_fidelity(sandbox, unpacker):
    dest, _ = sandbox
    x = ti("d/f", mode=0o4755, uid=1234, gid=4321, mtime=1500000000)
    x.pax_headers = {"SCHILY.xattr.user.berth": "v1", "SCHILY.xattr.trusted.overlay.opaque": "y"}
    data = mk([
        ti("d", tarfile.DIRTYPE, mode=0o750, uid=7, gid=8, mtime=1400000000),
        (x, b"content"),
        ti("d/hl", tarfile.LNKTYPE, linkname="d/f"),
        ti("d/sym", tarfile.SYMTYPE, linkname="/nonexistent/target"),
        ti("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        ti("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660),
        ti("fifo", tarfile.FIFOTYPE),
        ti("./dot/./slash", tarfile.DIRTYPE),
    ])
    size = do_unpack(data, dest)
    assert size == len(b"content")
    f = dest / "d" / "f"
    st = f.stat()
    assert f.read_bytes() == b"content"
    assert (st.st_uid, st.st_gid) == (1234, 4321) and stat.S_IMODE(st.st_mode) == 0o4755
    assert int(st.st_mtime) == 1500000000
    assert os.getxattr(f, "user.berth") == b"v1"
    with pytest.raises(OSError):
        os.getxattr(f, "trusted.overlay.opaque")  # a layer cannot forge overlay metadata
    assert (dest / "d" / "hl").stat().st_ino == st.st_ino
    assert os.readlink(dest / "d" / "sym") == "/nonexistent/target"
    d = (dest / "d").stat()
    assert stat.S_IMODE(d.st_mode) == 0o750 and (d.st_uid, d.st_gid) == (7, 8) and int(d.st_mtime) == 1400000000
    n = (dest / "dev" / "null").lstat()
    assert stat.S_ISCHR(n.st_mode) and os.major(n.st_rdev) == 1 and os.minor(n.st_rdev) == 3
    assert stat.S_ISBLK((dest / "dev" / "sda").lstat().st_mode)
    assert stat.S_ISFIFO((dest / "fifo").lstat().st_mode)
    assert (dest / "dot" / "slash").is_dir()


def test_whiteouts_become_overlay_form(sandbox, unpacker):
    dest, _ = sandbox
    data = mk([ti("etc", tarfile.DIRTYPE), ti("etc/.wh.passwd"), ti("opt", tarfile.DIRTYPE),
               ti("opt/.wh..wh..opq"), (ti("opt/new"), b"n")])
    do_unpack(data, dest)
    w = (dest / "etc" / "passwd").lstat()
    assert stat.S_ISCHR(w.st_mode) and w.st_rdev == 0
    assert not (dest / "etc" / ".wh.passwd").exists()
    assert os.getxattr(dest / "opt", "trusted.overlay.opaque") == b"y"
    assert not (dest / "opt" / ".wh..wh..opq").exists()
    assert (dest / "opt" / "new").read_bytes() == b"n"


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_compressions_and_diff_id(sandbox, unpacker, compress):
    import hashlib

    dest, _ = sandbox
    raw = mk([(ti("hello"), b"world")])
    blob = raw if compress == "none" else gzip.compress(raw) if compress == "gzip" else __import__(
        "zstandard").ZstdCompressor().compress(raw)
    diff_id, size, tar_size = unpack_compressed(io.BytesIO(blob), dest, reopen=lambda: io.BytesIO(blob))
    assert diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert (size, tar_size) == (5, len(raw))
    assert (dest / "hello").read_bytes() == b"world"


def test_truncated_and_garbage(sandbox, unpacker):
    dest, _ = sandbox
    raw = mk([(ti("big"), os.urandom(100_000))])
    with pytest.raises(LayerError):
        do_unpack(gzip.compress(raw)[:5000], dest)
    with pytest.raises(LayerError):
        do_unpack(b"\x1f\x8b" + b"garbage" * 100, dest)


def test_later_entries_replace_earlier(sandbox, unpacker):
    dest, _ = sandbox
    data = mk([(ti("a"), b"1"), ti("a", tarfile.DIRTYPE), (ti("a/b"), b"2"), (ti("c"), b"3"),
               ti("c", tarfile.SYMTYPE, linkname="a"), (ti("e/f"), b"4"), ti("e", tarfile.SYMTYPE, linkname="c")])
    do_unpack(data, dest)
    assert (dest / "a").is_dir() and (dest / "a" / "b").read_bytes() == b"2"
    assert os.readlink(dest / "c") == "a"
    assert os.readlink(dest / "e") == "c"  # a directory replaced by a symlink


def test_sparse_and_long_names(sandbox, unpacker, tmp_path):
    """GNU tar's own output (sparse files, long names) goes through both paths."""
    import subprocess

    src = tmp_path / "src"
    long = src / ("d" * 120) / ("n" * 150)
    long.mkdir(parents=True)
    (long / "f").write_bytes(b"long")
    with open(src / "sparse", "wb") as f:
        f.seek(5_000_000)
        f.write(b"end")
    data = subprocess.run(["tar", "-c", "-S", "--format=posix", "-C", str(src), "."], capture_output=True,
                          check=True).stdout
    dest, _ = sandbox
    do_unpack(data, dest)
    assert (dest / ("d" * 120) / ("n" * 150) / "f").read_bytes() == b"long"
    sp = (dest / "sparse").read_bytes()
    assert len(sp) == 5_000_003 and sp.endswith(b"end") and sp[:10] == b"\0" * 10


def test_overlay_upper_roundtrip(tmp_path):
    upper = tmp_path / "upper"
    (upper / "dir" / "sub").mkdir(parents=True)
    (upper / "dir" / "file").write_bytes(b"data")
    os.chmod(upper / "dir" / "file", 0o600)
    os.chown(upper / "dir" / "file", 1000, 1001)
    os.link(upper / "dir" / "file", upper / "dir" / "hard")
    os.symlink("file", upper / "dir" / "sym")
    os.mknod(upper / "dir" / "gone", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    os.setxattr(upper / "dir" / "sub", "trusted.overlay.opaque", b"y")
    os.setxattr(upper / "dir" / "file", "user.k", b"v")
    buf = io.BytesIO()
    tar_from_overlay_upper(upper, buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tf:
        names = {m.name: m for m in tf.getmembers()}
    assert "dir/.wh.gone" in names and "dir/gone" not in names
    assert "dir/sub/.wh..wh..opq" in names
    assert names["dir/file"].uid == 1000 and names["dir/file"].mode == 0o600
    assert names["dir/file"].pax_headers.get("SCHILY.xattr.user.k") == "v"
    assert names["dir/hard"].islnk() and names["dir/hard"].linkname == "dir/file"
    assert names["dir/sym"].issym()
    assert list(names).index("dir") < list(names).index("dir/file")
    # and back: the same overlay form
    dest = tmp_path / "back"
    dest.mkdir()
    buf.seek(0)
    unpack(buf, dest)
    assert (dest / "dir" / "gone").lstat().st_rdev == 0
    assert os.getxattr(dest / "dir" / "sub", "trusted.overlay.opaque") == b"y"
    assert (dest / "dir" / "hard").stat().st_ino == (dest / "dir" / "file").stat().st_ino


def test_large_file_then_more_entries(sandbox, unpacker):
    dest, _ = sandbox
    big = os.urandom(3_500_123)
    data = mk([(ti("big.bin"), big), (ti("after"), b"x"), ti("d", tarfile.DIRTYPE), (ti("d/big2"), big[:2_000_000])])
    assert do_unpack(gzip.compress(data, compresslevel=1), dest) == len(big) + 1 + 2_000_000
    assert (dest / "big.bin").read_bytes() == big
    assert (dest / "after").read_bytes() == b"x"
    assert (dest / "d" / "big2").read_bytes() == big[:2_000_000]
    evil = mk([(ti("big.bin"), big), (ti("../evil"), b"x")])
    dest2 = dest.parent / "second"
    dest2.mkdir()
    with pytest.raises(LayerError, match="'../evil'"):
        do_unpack(evil, dest2)
    assert not (dest.parent / "evil").exists()


def _raw_header(name: bytes, typ: bytes = b"0", size: int = 0, linkname: bytes = b"",
                size_field: bytes | None = None) -> bytes:
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"14000000000\0"
    h[156:157] = typ
    h[157:157 + len(linkname)] = linkname
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 512)


def _pax_rec(k: str, v: str) -> bytes:
    body = f" {k}={v}\n".encode()
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


@pytest.mark.parametrize("archive,needle", [
    (lambda: bytearray(_raw_header(b"ok")) + b"\0" * 1024, None),
    (lambda: _raw_header(b"x")[:148] + b"0000001\0" + _raw_header(b"x")[156:] + b"\0" * 1024, "checksum"),
    (lambda: _raw_header(b"pax_global", b"g", len(_pax_rec("path", "a"))) + _pad(_pax_rec("path", "a"))
     + _raw_header(b"f") + b"\0" * 1024, "global pax header"),
    (lambda: _raw_header(b"pax", b"x", len(_pax_rec("path", "../evil"))) + _pad(_pax_rec("path", "../evil"))
     + _raw_header(b"innocent") + b"\0" * 1024, "'../evil'"),
    (lambda: _raw_header(b"pax", b"x", len(_pax_rec("path", "a/..\0x"))) + _pad(_pax_rec("path", "a/..\0x"))
     + _raw_header(b"innocent") + b"\0" * 1024, "NUL"),
    (lambda: _raw_header(b"d", b"5", 512) + b"x" * 512 + b"\0" * 1024, "with data"),
    (lambda: _raw_header(b"f", size=10_000) + b"x" * 100, "truncated"),
    (lambda: _raw_header(b"f", b"V") + b"\0" * 1024, "unsupported type"),
])
def test_gnu_tar_path_header_parsing(sandbox, archive, needle):
    """Headers the validating parser (GNU tar path) must read exactly like GNU tar does."""
    dest, _ = sandbox
    data = bytes(archive())
    if needle is None:
        do_unpack(data, dest)
        assert (dest / "ok").is_file()
        return
    with pytest.raises(LayerError, match=needle):
        do_unpack(data, dest)


def test_base256_size(sandbox):
    dest, _ = sandbox
    content = b"z" * 700
    big = bytes([0x80]) + (700).to_bytes(11, "big")
    h = bytearray(_raw_header(b"b256", size_field=big))
    data = bytes(h) + _pad(content) + b"\0" * 1024
    do_unpack(data, dest)
    assert (dest / "b256").read_bytes() == content
