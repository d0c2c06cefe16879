"""Layer tars in and out of the store.

`unpack()` turns an (untrusted) layer tar into a directory ready to serve as an overlayfs lower
dir: whiteouts `.wh.NAME` become character devices 0/0, opaque markers `.wh..wh..opq` become the
`trusted.overlay.opaque=y` xattr on their directory. Hardlinks, symlinks, device nodes, xattrs,
ownership, modes and mtimes are kept. An entry that would land outside the root (a `..`
component, an absolute name, a path through a symlink, a hardlink to something outside) is
refused with an error naming it; nothing is ever written outside `dest`.

`tar_from_overlay_upper()` goes the other way for `commit`, `build` and `diff`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from engine.errors import BerthError

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_CHUNK = 1 << 20
_IS_ROOT = os.geteuid() == 0


class LayerError(BerthError):
    """A layer that cannot be unpacked safely (or is corrupt)."""

    type = "invalid_layer"


# --------------------------------------------------------------------------- compression

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def detect_compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return "none"


class _Peek:
    """A read-only stream that lets the first bytes be inspected without losing them."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.buf = b""

    def peek(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.raw.read(n - len(self.buf))
            if not more:
                break
            self.buf += more
        return self.buf[:n]

    def read(self, n: int = -1) -> bytes:
        if self.buf:
            if n < 0:
                out, self.buf = self.buf + self.raw.read(), b""
                return out
            out, self.buf = self.buf[:n], self.buf[n:]
            if len(out) < n:
                out += self.raw.read(n - len(out))
            return out
        return self.raw.read(n)

    def readable(self) -> bool:
        return True


class _GzipReader:
    """gzip (multi-member) on zlib directly: zlib checks each member's CRC and size itself,
    without gzip.GzipFile's per-read Python overhead."""

    RAW_CHUNK = 256 * 1024

    def __init__(self, raw: _Peek) -> None:
        import zlib

        self.zlib = zlib
        self.raw = raw
        self.d = zlib.decompressobj(31)
        self.pending = b""  # compressed input not yet given to zlib (unconsumed tail)
        self.done = False

    def read(self, n: int = -1) -> bytes:
        """Like a file: n bytes unless the stream ends first (n < 0: everything)."""
        if n is None or n < 0:
            parts = []
            while b := self._read_some(1 << 20):
                parts.append(b)
            return b"".join(parts)
        if n == 0:
            return b""
        out = self._read_some(n)
        if len(out) < n and out:
            parts = [out]
            got = len(out)
            while got < n:
                b = self._read_some(n - got)
                if not b:
                    break
                parts.append(b)
                got += len(b)
            out = b"".join(parts)
        return out

    def _read_some(self, want: int) -> bytes:
        while not self.done:
            if not self.pending:
                self.pending = self.raw.read(self.RAW_CHUNK)
                if not self.pending:
                    if not self.d.eof:
                        raise EOFError("compressed layer ended before the end of the gzip stream")
                    self.done = True
                    break
            out = self.d.decompress(self.pending, want)
            self.pending = self.d.unconsumed_tail
            if self.d.eof:
                rest = self.d.unused_data + self.pending
                self.pending = b""
                if rest.strip(b"\0"):
                    if not rest.startswith(GZIP_MAGIC):
                        raise EOFError("garbage after the gzip stream")
                    self.d = self.zlib.decompressobj(31)
                    self.pending = rest
                else:
                    more = self.raw.read(self.RAW_CHUNK)
                    if more:  # more members (or padding) follow
                        self.d = self.zlib.decompressobj(31)
                        self.pending = more if more.strip(b"\0") else b""
                        if not self.pending:
                            continue
                    else:
                        self.done = True
            if out:
                return out
        return b""

    def readable(self) -> bool:
        return True


def open_decompressed(raw: BinaryIO) -> tuple[IO[bytes], str]:
    """Wrap `raw` in the right decompressor (by magic number). Returns (stream, kind)."""
    p = _Peek(raw)
    kind = detect_compression(p.peek(6))
    if kind == "gzip":
        return _GzipReader(p), kind  # type: ignore[return-value]
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(p, read_across_frames=True), kind  # type: ignore[arg-type]
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File(p, "rb"), kind  # type: ignore[arg-type]
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(p, "rb"), kind  # type: ignore[arg-type]
    return p, kind  # type: ignore[return-value]


class HashingReader:
    """Counts and hashes everything read through it (the diff ID of a layer)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.h = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        b = self.raw.read(n)
        self.h.update(b)
        self.size += len(b)
        return b

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.h.hexdigest()


# --------------------------------------------------------------------------- unpacking


def _clean_name(name: str) -> list[str]:
    """Split an entry name into components; refuse `..` and absolute names."""
    if name.startswith("/"):
        raise LayerError(f"layer entry {name!r} has an absolute path: refused")
    parts = []
    for c in name.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            raise LayerError(f"layer entry {name!r} contains '..': refused (it would escape the layer root)")
        parts.append(c)
    return parts


class _Unpacker:
    def __init__(self, dest: Path) -> None:
        self.dest = str(dest)
        self.dirs: list[tuple[str, tarfile.TarInfo]] = []
        self.size = 0
        self.known_dirs: set[str] = {""}

    def _parent(self, parts: list[str], entry: str, create: bool = True) -> str:
        """The real directory that will hold the entry: every component must be a directory
        (missing ones are created), never a symlink."""
        rel = ""
        for c in parts[:-1]:
            rel = f"{rel}/{c}" if rel else c
            if rel in self.known_dirs:
                continue
            p = os.path.join(self.dest, rel)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                if not create:
                    raise LayerError(f"layer entry {entry!r}: {rel!r} does not exist in the layer") from None
                os.mkdir(p, 0o755)
                self.known_dirs.add(rel)
                continue
            if stat.S_ISLNK(st.st_mode):
                raise LayerError(f"layer entry {entry!r} would be written through the symlink {rel!r}: refused")
            if not stat.S_ISDIR(st.st_mode):
                raise LayerError(f"layer entry {entry!r}: {rel!r} is not a directory")
            self.known_dirs.add(rel)
        return os.path.join(self.dest, rel) if rel else self.dest

    def _clear(self, path: str, keep_dir: bool) -> bool:
        """Remove what is at path (unless it is a dir and keep_dir). True if a dir remains."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            import shutil

            shutil.rmtree(path)
            self.known_dirs = {d for d in self.known_dirs if not (os.path.join(self.dest, d) + "/").startswith(path + "/")}
            self.known_dirs.add("")
            return False
        os.unlink(path)
        return False

    def entry(self, ti: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        name = ti.name
        parts = _clean_name(name)
        if not parts:  # the root itself
            if ti.isdir():
                self.dirs.append((self.dest, ti))
            return
        base = parts[-1]
        parent = self._parent(parts, name)
        if base == OPAQUE_MARKER:
            try:
                os.setxattr(parent, OPAQUE_XATTR, b"y")
            except OSError as e:
                raise LayerError(f"layer entry {name!r}: cannot mark {parent} opaque: {e}") from None
            return
        if base.startswith(WHITEOUT_PREFIX):
            target = base[len(WHITEOUT_PREFIX):]
            if not target or target in (".", ".."):
                raise LayerError(f"layer entry {name!r} is an invalid whiteout: refused")
            path = os.path.join(parent, target)
            self._clear(path, keep_dir=False)
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(0, 0))
            return
        path = os.path.join(parent, base)
        rel = "/".join(parts)
        if ti.isdir():
            if not self._clear(path, keep_dir=True):
                os.mkdir(path, 0o700)
            self.known_dirs.add(rel)
            self.dirs.append((path, ti))
            return
        self._clear(path, keep_dir=False)
        if ti.isreg():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                src = tf.extractfile(ti)
                left = ti.size
                if src is not None:
                    while left > 0:
                        b = src.read(min(left, _CHUNK))
                        if not b:
                            raise LayerError(f"layer entry {name!r}: unexpected end of data")
                        _write_all(fd, b)
                        left -= len(b)
            finally:
                os.close(fd)
            self.size += ti.size
        elif ti.issym():
            os.symlink(ti.linkname, path)
        elif ti.islnk():
            lparts = _clean_link(ti.linkname, name)
            lparent = self._parent(lparts, name, create=False)  # the target's dir must be real
            target = os.path.join(lparent, lparts[-1])
            try:
                st = os.lstat(target)
            except FileNotFoundError:
                raise LayerError(f"layer entry {name!r}: hardlink target {ti.linkname!r} is not in the layer") from None
            if stat.S_ISDIR(st.st_mode):
                raise LayerError(f"layer entry {name!r}: hardlink to a directory {ti.linkname!r}: refused")
            os.link(target, path, follow_symlinks=False)
            return  # a hardlink shares the target's inode: no metadata of its own
        elif ti.ischr() or ti.isblk():
            kind = stat.S_IFCHR if ti.ischr() else stat.S_IFBLK
            os.mknod(path, 0o600 | kind, os.makedev(ti.devmajor, ti.devminor))
        elif ti.isfifo():
            os.mkfifo(path, 0o600)
        else:
            raise LayerError(f"layer entry {name!r} has an unsupported type {ti.type!r}")
        self._meta(path, ti)

    def _meta(self, path: str, ti: tarfile.TarInfo) -> None:
        link = ti.issym()
        if _IS_ROOT:
            os.lchown(path, ti.uid, ti.gid)
        for k, v in ti.pax_headers.items():
            if k.startswith("SCHILY.xattr."):
                xname = k[len("SCHILY.xattr."):]
                if xname.startswith("trusted.overlay."):
                    continue  # never let a layer forge overlay metadata
                try:
                    os.setxattr(path, xname, v.encode("utf-8", "surrogateescape"), follow_symlinks=False)
                except OSError as e:
                    if e.errno not in (errno.ENOTSUP, errno.EPERM, errno.EOPNOTSUPP):
                        raise
        if not link:
            os.chmod(path, ti.mode & 0o7777)
        try:
            os.utime(path, (ti.mtime, ti.mtime), follow_symlinks=False)
        except OSError:
            pass

    def finish(self) -> None:
        for path, ti in reversed(self.dirs):  # deepest last-created first
            # a later entry may have replaced the directory (with a symlink, even): only a
            # directory still there gets the directory's metadata (chmod follows symlinks)
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    continue
            except FileNotFoundError:
                continue
            self._meta(path, ti)


def _write_all(fd: int, b: bytes) -> None:
    mv = memoryview(b)
    while mv:
        n = os.write(fd, mv)
        mv = mv[n:]


def _clean_link(linkname: str, entry: str) -> list[str]:
    try:
        parts = _clean_name(linkname)
    except LayerError:
        raise LayerError(f"layer entry {entry!r} is a hardlink to {linkname!r} outside the layer: refused") from None
    if not parts:
        raise LayerError(f"layer entry {entry!r} is a hardlink to the layer root: refused")
    return parts


def unpack(stream: IO[bytes], dest: Path) -> int:
    """Unpack an uncompressed tar stream into the (empty, existing) directory `dest`.
    Returns the total size of regular file content."""
    u = _Unpacker(dest)
    try:
        with tarfile.open(fileobj=stream, mode="r|", errorlevel=2) as tf:  # type: ignore[call-overload]
            for ti in tf:
                u.entry(ti, tf)
    except tarfile.TarError as e:
        raise LayerError(f"corrupt layer tar: {e}") from None
    except EOFError as e:
        raise LayerError(f"truncated layer: {e}") from None
    u.finish()
    return u.size


class _NeedsSlowPath(Exception):
    """The layer does something GNU tar would not do the way Docker does (replacing a
    directory with a file): unpack it with the Python unpacker instead."""


def _gnu_tar() -> str | None:
    if os.environ.get("BERTH_UNPACKER") == "python":
        return None
    import shutil

    return shutil.which("tar")


_TAR_FLAGS = ["--numeric-owner", "--same-owner", "--same-permissions", "--delay-directory-restore",
              "--xattrs", "--xattrs-include=*", f"--xattrs-exclude={OPAQUE_XATTR.rsplit('.', 1)[0]}.*"]


class _Reader:
    """Exact reads over a stream, in large chunks: headers are copied out, file data is
    passed on (or dropped) without going through Python objects per block."""

    CHUNK = 1 << 20

    def __init__(self, src: IO[bytes]) -> None:
        self.src = src
        self.buf = b""
        self.off = 0

    def _fill(self) -> bool:
        b = self.src.read(self.CHUNK)
        if not b:
            return False
        self.buf = self.buf[self.off:] + b if self.off < len(self.buf) else b
        self.off = 0
        return True

    def exact(self, n: int) -> bytes:
        while len(self.buf) - self.off < n:
            if not self._fill():
                raise LayerError("truncated layer: the tar stream ends inside an entry")
        out = self.buf[self.off:self.off + n]
        self.off += n
        return out

    def pass_on(self, n: int, write: Callable[[memoryview], object] | None) -> None:
        while n > 0:
            if self.off >= len(self.buf) and not self._fill():
                raise LayerError("truncated layer: the tar stream ends inside a file")
            take = min(n, len(self.buf) - self.off)
            if write is not None:
                write(memoryview(self.buf)[self.off:self.off + take])
            self.off += take
            n -= take


def _num(field: bytes, what: str) -> int:
    """A tar numeric field: octal (GNU tar's leniency: leading spaces, NUL/space end) or
    GNU base-256."""
    if field[:1] and field[0] & 0x80:
        if field[0] == 0xFF:
            raise LayerError(f"corrupt layer tar: negative {what}")
        n = field[0] & 0x7F
        for c in field[1:]:
            n = (n << 8) | c
        return n
    s = field.split(b"\0", 1)[0].strip(b" ")
    if not s:
        return 0
    if s.strip(b"01234567"):
        raise LayerError(f"corrupt layer tar: invalid {what} field {field!r}")
    return int(s, 8)


def _pax(payload: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(payload):
        if payload[pos] == 0:
            break
        sp = payload.find(b" ", pos)
        if sp < 0:
            raise LayerError("corrupt layer tar: malformed pax header")
        try:
            length = int(payload[pos:sp])
        except ValueError:
            raise LayerError("corrupt layer tar: malformed pax record length") from None
        rec = payload[sp + 1:pos + length]
        if length <= 0 or pos + length > len(payload) or not rec.endswith(b"\n") or b"=" not in rec:
            raise LayerError("corrupt layer tar: malformed pax record")
        k, _, v = rec[:-1].partition(b"=")
        out[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _nts(b: bytes) -> bytes:
    return b.split(b"\0", 1)[0]


_DATA_TYPES = {b"0", b"\0", b"7"}  # regular files: the only entries whose data follows
_ENTRY_TYPES = _DATA_TYPES | {b"1", b"2", b"3", b"4", b"5", b"6"}
_MAX_META = 1 << 20  # pax / long-name payloads


def _unpack_with_tar(tar: str, stream: IO[bytes], dest: Path) -> int:
    """Parse and validate every header here (like GNU tar reads them), pass the validated
    bytes to GNU tar, which writes the files in parallel on another core; then apply
    whiteouts and opaque markers in overlay form. Anything unusual (sparse files, a
    directory replaced by a file) raises _NeedsSlowPath for the Python unpacker."""
    import subprocess
    import tempfile

    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([tar, "-x", "-f", "-", "-C", str(dest), *_TAR_FLAGS], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=err, bufsize=0)
    assert proc.stdin is not None
    pipe = proc.stdin
    fd = pipe.fileno()
    pending: list[memoryview] = []
    pending_len = 0

    def flush_pending() -> None:
        nonlocal pending, pending_len
        views = pending
        pending, pending_len = [], 0
        try:
            while views:
                n = os.writev(fd, views[:512])
                while views and n >= len(views[0]):
                    n -= len(views[0])
                    views.pop(0)
                if views and n:
                    views[0] = views[0][n:]
        except BrokenPipeError:
            raise LayerError(f"tar failed: {_tar_err(err)}") from None

    def write(b: memoryview | bytes) -> None:
        # batch the many small header/data pieces into few large writes
        nonlocal pending_len
        if pending_len + len(b) > (1 << 20) or len(pending) >= 512:
            flush_pending()
        if len(b) >= (1 << 18):
            pending.append(memoryview(b))
            flush_pending()
            return
        pending.append(memoryview(b))  # views of immutable chunks: no copy needed
        pending_len += len(b)

    r = _Reader(stream)
    state: dict[str, str] = {}
    whiteouts: list[list[str]] = []
    opaques: list[list[str]] = []
    size = 0
    ok = False

    def parents(parts: list[str], entry: str) -> None:
        for k in range(1, len(parts)):
            p = "/".join(parts[:k])
            kind = state.get(p)
            if kind is None:
                state[p] = "dir"
            elif kind == "sym":
                raise LayerError(f"layer entry {entry!r} would be written through the symlink {p!r}: refused")
            elif kind != "dir":
                raise LayerError(f"layer entry {entry!r}: {p!r} is not a directory")

    try:
        local: dict[str, str] = {}
        longname: bytes | None = None
        longlink: bytes | None = None
        meta: list[bytes] = []  # extended headers (pax, long names) of the entry being read
        while True:
            hdr = r.exact(512)
            if not hdr.strip(b"\0"):
                break  # end of archive
            stored = _num(hdr[148:156], "checksum")
            unsigned = sum(hdr) - sum(hdr[148:156]) + 256  # the checksum field counts as spaces
            if stored != unsigned:  # some old tars summed signed chars: GNU tar accepts both
                high = sum(1 for c in hdr[:148] + hdr[156:] if c > 127)
                if stored != unsigned - 256 * high:
                    raise LayerError("corrupt layer tar: bad header checksum")
            typ = hdr[156:157]
            hsize = _num(hdr[124:136], "size")
            padded = (hsize + 511) // 512 * 512
            if typ in (b"x", b"g", b"L", b"K"):
                if hsize > _MAX_META:
                    raise LayerError("corrupt layer tar: oversized extended header")
                body = r.exact(padded)
                payload = body[:hsize]
                if typ == b"g":
                    g = _pax(payload)
                    if any(k in g for k in ("path", "linkpath", "size")) or any(k.startswith("GNU.sparse") for k in g):
                        raise LayerError("layer has a global pax header that renames or resizes entries: refused")
                    write(hdr + body)
                    continue
                meta.append(hdr + body)
                if typ == b"x":
                    local.update(_pax(payload))
                elif typ == b"L":
                    longname = _nts(payload)
                else:
                    longlink = _nts(payload)
                continue
            if typ == b"S" or any(k.startswith("GNU.sparse") for k in local):
                raise _NeedsSlowPath("sparse file")
            if typ not in _ENTRY_TYPES:
                raise LayerError(f"layer entry {_nts(hdr[0:100])!r} has an unsupported type {typ!r}")
            if "path" in local:
                name = local["path"]
            else:
                raw = longname if longname is not None else _nts(hdr[0:100])
                if longname is None and hdr[257:263] == b"ustar\0" and _nts(hdr[345:500]):
                    raw = _nts(hdr[345:500]) + b"/" + raw
                name = raw.decode("utf-8", "surrogateescape")
            if "linkpath" in local:
                link = local["linkpath"]
            else:
                link = (longlink if longlink is not None else _nts(hdr[157:257])).decode("utf-8", "surrogateescape")
            if "size" in local:
                try:
                    dsize = int(local["size"])
                except ValueError:
                    raise LayerError(f"layer entry {name!r}: invalid pax size") from None
            else:
                dsize = hsize
            if "\0" in name or "\0" in link:
                raise LayerError(f"layer entry {name!r} has a NUL in its name: refused")
            if typ == b"\0" and name.endswith("/"):
                typ = b"5"
            if typ not in _DATA_TYPES and dsize:
                raise LayerError(f"layer entry {name!r}: a {typ!r} entry with data is not supported")
            parts = _clean_name(name)
            forward = True
            if not parts:
                forward = typ == b"5"
            else:
                base = parts[-1]
                rel = "/".join(parts)
                parents(parts, name)
                if base == OPAQUE_MARKER:
                    opaques.append(parts[:-1])
                    forward = False
                elif base.startswith(WHITEOUT_PREFIX):
                    target = base[len(WHITEOUT_PREFIX):]
                    if not target or target in (".", ".."):
                        raise LayerError(f"layer entry {name!r} is an invalid whiteout: refused")
                    whiteouts.append(parts[:-1] + [target])
                    forward = False
                elif typ == b"5":
                    state[rel] = "dir"
                else:
                    if state.get(rel) == "dir":
                        raise _NeedsSlowPath(rel)
                    if typ == b"1":
                        lparts = _clean_link(link, name)
                        parents(lparts, name)
                        lrel = "/".join(lparts)
                        if lrel not in state:
                            raise LayerError(f"layer entry {name!r}: hardlink target {link!r} is not in the layer")
                        if state[lrel] == "dir":
                            raise LayerError(f"layer entry {name!r}: hardlink to a directory {link!r}: refused")
                        state[rel] = "file"
                    elif typ == b"2":
                        state[rel] = "sym"
                    else:
                        state[rel] = "file"
                        if typ in _DATA_TYPES:
                            size += dsize
            if forward:
                for m in meta:
                    write(m)
                write(hdr)
            meta, local, longname, longlink = [], {}, None, None
            if typ in _DATA_TYPES:
                r.pass_on((dsize + 511) // 512 * 512, write if forward else None)
        write(b"\0" * 1024)
        flush_pending()
        pipe.close()
        rc = proc.wait()
        if rc != 0:
            raise LayerError(f"tar failed (exit {rc}): {_tar_err(err)}")
        ok = True
    finally:
        if not ok:
            proc.kill()
            with contextlib.suppress(OSError):
                pipe.close()
            proc.wait()
        err.close()
    u = _Unpacker(dest)
    for parts in whiteouts:
        parent = u._parent(parts, "/".join(parts))
        path = os.path.join(parent, parts[-1])
        u._clear(path, keep_dir=False)
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(0, 0))
    for parts in opaques:
        d = u._parent(parts + ["x"], "/".join(parts + [OPAQUE_MARKER]))
        os.setxattr(d, OPAQUE_XATTR, b"y")
    return size


def _tar_err(err: IO[bytes]) -> str:
    try:
        err.seek(0)
        return err.read(4000).decode(errors="replace").strip() or "no message"
    except OSError:
        return "no message"


def unpack_compressed(raw: BinaryIO, dest: Path, reopen: Callable[[], BinaryIO] | None = None
                      ) -> tuple[str, int, int]:
    """Decompress (gzip/zstd/none, by magic) and unpack into `dest`. Returns (diff_id, size,
    tar_size): the diff ID is the sha256 of the whole uncompressed stream, trailing padding
    included; size counts file content, tar_size the uncompressed stream.

    GNU tar does the writing when it is there (entries are validated here first); `reopen`
    gives the same bytes again should the layer need the slower Python unpacker after all."""
    import zlib

    tar = _gnu_tar()
    stream, _kind = open_decompressed(raw)
    h = HashingReader(stream)
    try:
        if tar is None or reopen is None:
            size = unpack(h, dest)
        else:
            try:
                size = _unpack_with_tar(tar, h, dest)
            except _NeedsSlowPath:
                h.drain()
                for e in list(dest.iterdir()):
                    import shutil

                    shutil.rmtree(e) if e.is_dir() and not e.is_symlink() else e.unlink()
                with reopen() as again:
                    s2, _k = open_decompressed(again)
                    h2 = HashingReader(s2)
                    size = unpack(h2, dest)
                    h2.drain()
                if h2.digest != h.digest:
                    raise LayerError("layer content changed while it was being read") from None
                return h.digest, size, h.size
        h.drain()
    except LayerError:
        raise
    except (EOFError, zlib.error) as e:
        raise LayerError(f"corrupt or truncated layer: {e}") from None
    except OSError as e:
        if "gzip" in type(e).__name__.lower() or "compressed" in str(e).lower():
            raise LayerError(f"corrupt layer: {e}") from None
        raise
    except Exception as e:
        if "Zstd" in type(e).__name__ or type(e).__module__.startswith("zstandard"):
            raise LayerError(f"corrupt layer: {e}") from None
        raise
    return h.digest, size, h.size


# --------------------------------------------------------------------------- overlay upper -> tar


def _walk(root: str) -> Iterator[tuple[str, os.stat_result]]:
    stack = [""]
    while stack:
        rel = stack.pop()
        d = os.path.join(root, rel) if rel else root
        with os.scandir(d) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            r = f"{rel}/{e.name}" if rel else e.name
            st = e.stat(follow_symlinks=False)
            yield r, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(r)


def _xattrs(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for n in names:
        if n.startswith("trusted.overlay.") or n.startswith("user.overlay."):
            continue
        try:
            out["SCHILY.xattr." + n] = os.getxattr(path, n, follow_symlinks=False).decode("utf-8", "surrogateescape")
        except OSError:
            pass
    return out


def tar_from_overlay_upper(upper: Path, out: BinaryIO) -> None:
    """Write a layer tar (uncompressed) of an overlay upper dir to `out`: whiteout devices
    become `.wh.NAME` files, opaque directories get a `.wh..wh..opq` entry."""
    root = str(upper)
    seen: dict[tuple[int, int], str] = {}
    # Walk depth-first but emit in sorted, parent-before-child order.
    entries = sorted(_walk(root), key=lambda x: x[0].split("/"))
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:  # type: ignore[call-overload]
        for rel, st in entries:
            path = os.path.join(root, rel)
            mode = st.st_mode
            if stat.S_ISCHR(mode) and st.st_rdev == 0:
                d, _, base = rel.rpartition("/")
                ti = tarfile.TarInfo((d + "/" if d else "") + WHITEOUT_PREFIX + base)
                ti.mtime = int(st.st_mtime)
                ti.mode = 0o644
                tf.addfile(ti)
                continue
            ti = tarfile.TarInfo(rel)
            ti.uid, ti.gid = st.st_uid, st.st_gid
            ti.uname = ti.gname = ""
            ti.mode = stat.S_IMODE(mode)
            ti.mtime = int(st.st_mtime)
            pax = _xattrs(path)
            if pax:
                ti.pax_headers = pax
            fobj = None
            if stat.S_ISDIR(mode):
                ti.type = tarfile.DIRTYPE
            elif stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen:
                    ti.type = tarfile.LNKTYPE
                    ti.linkname = seen[key]
                else:
                    if st.st_nlink > 1:
                        seen[key] = rel
                    ti.type = tarfile.REGTYPE
                    ti.size = st.st_size
                    fobj = open(path, "rb")  # noqa: SIM115
            elif stat.S_ISLNK(mode):
                ti.type = tarfile.SYMTYPE
                ti.linkname = os.readlink(path)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                ti.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
                ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            elif stat.S_ISFIFO(mode):
                ti.type = tarfile.FIFOTYPE
            else:
                continue  # sockets are not kept, like docker
            try:
                tf.addfile(ti, fobj)
            finally:
                if fobj is not None:
                    fobj.close()
            if stat.S_ISDIR(mode):
                try:
                    opaque = os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
                except OSError:
                    opaque = False
                if opaque:
                    w = tarfile.TarInfo(rel + "/" + OPAQUE_MARKER)
                    w.mtime = int(st.st_mtime)
                    w.mode = 0o644
                    tf.addfile(w)
