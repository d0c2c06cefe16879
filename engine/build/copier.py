"""COPY and ADD: finding sources (build context or another stage's root filesystem), hashing
them for the cache, and copying them into a root filesystem with Docker's rules.

Safety: a context source is looked up relative to the context root; `..` that climbs out and
symlinks whose target lies outside the context are refused with an error naming the path.
Files excluded by .dockerignore do not exist for COPY/ADD. Destinations are resolved inside
the target root filesystem (symlinks in the image never lead out of it).
"""

from __future__ import annotations

import bz2
import fnmatch
import hashlib
import lzma
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from engine.build.dockerignore import Matcher, clean
from engine.build.fsutil import chown_ids, mkdir_p, scoped_resolve
from engine.errors import BerthError, InvalidArgument

_GLOB = re.compile(r"[*?\[]")


class CopyError(BerthError):
    type = "build"


@dataclass
class Source:
    rel: str  # path relative to the source root ("" = the root itself)
    path: Path  # host path (for a context source: never outside the context)


class SourceTree:
    """Where COPY/ADD sources come from: the build context (with .dockerignore, escapes refused)
    or a stage/image root filesystem (symlinks resolved inside it)."""

    def __init__(self, root: Path, matcher: Matcher | None = None, is_context: bool = True) -> None:
        self.root = Path(os.path.realpath(root))
        self.matcher = matcher or Matcher([])
        self.is_context = is_context

    def excluded(self, rel: str) -> bool:
        return bool(self.matcher) and rel not in ("", ".") and self.matcher.matches(rel)

    def _host(self, rel: str, what: str) -> Path:
        """Host path of context-relative `rel`, following symlinks; refuses to leave the root."""
        if not self.is_context:
            return scoped_resolve(self.root, rel)
        p = self.root / rel if rel else self.root
        real = Path(os.path.realpath(p))
        if real != self.root and not str(real).startswith(str(self.root) + os.sep):
            raise CopyError(f"{what}: source {rel!r} is a symlink (or goes through one) that points outside the "
                            f"build context ({real}): refused", field="source")
        return real

    def resolve(self, pattern: str, what: str) -> list[Source]:
        raw = pattern
        if self.is_context:
            c = clean(pattern.lstrip("/")) if not pattern.startswith("/") else clean(pattern)
            c = c.lstrip("/")
            if c == ".." or c.startswith("../"):
                raise CopyError(f"{what}: forbidden path outside the build context: {raw}", field="source")
            rel = "" if c == "." else c
        else:
            c = clean("/" + pattern)
            rel = c.lstrip("/")
        if _GLOB.search(rel):
            out = [Source(r, self._host(r, what)) for r in self._glob(rel)]
            if not out:
                raise CopyError(f"{what}: no source files were specified: {raw!r} matches nothing in the "
                                f"{'build context' if self.is_context else 'source image'}", field="source")
            return out
        if self.excluded(rel):
            raise CopyError(f"{what}: file not found in build context or excluded by .dockerignore: {raw}",
                            field="source")
        host = self._host(rel, what)
        if not os.path.lexists(host):
            where = "build context or excluded by .dockerignore" if self.is_context else "source image"
            raise CopyError(f"{what}: file not found in {where}: {raw}", field="source")
        return [Source(rel, host)]

    def _glob(self, pattern: str) -> list[str]:
        parts = pattern.split("/")
        found = [""]
        for i, part in enumerate(parts):
            nxt = []
            for base in found:
                d = self.root / base if base else self.root
                if self.is_context:
                    dreal = Path(os.path.realpath(d))
                else:
                    dreal = scoped_resolve(self.root, base)
                if not dreal.is_dir():
                    continue
                if _GLOB.search(part):
                    names = sorted(n for n in os.listdir(dreal) if fnmatch.fnmatchcase(n, part))
                else:
                    names = [part] if os.path.lexists(dreal / part) else []
                for n in names:
                    r = f"{base}/{n}" if base else n
                    if i == len(parts) - 1 and self.excluded(r):
                        continue
                    nxt.append(r)
            found = nxt
        return found

    def walk(self, src: Source) -> Iterator[tuple[str, Path, os.stat_result]]:
        """(path relative to src, host path, lstat) for src and everything below it; symlinks
        inside directories are not followed; excluded entries are skipped."""
        st = os.stat(src.path)  # the source itself is followed (it was checked)
        yield "", src.path, st
        if not stat.S_ISDIR(st.st_mode):
            return
        stack = [("", src.path, src.rel)]
        while stack:
            rel, host, ctx_rel = stack.pop()
            with os.scandir(host) as it:
                entries = sorted(it, key=lambda e: e.name)
            for e in entries:
                r = f"{rel}/{e.name}" if rel else e.name
                cr = f"{ctx_rel}/{e.name}" if ctx_rel else e.name
                if self.excluded(cr):
                    if e.is_dir(follow_symlinks=False) and self.matcher.may_include_below(cr):
                        # an exception may re-include something deeper: descend, emit nothing here
                        stack.append((r, Path(e.path), cr))
                    continue
                est = e.stat(follow_symlinks=False)
                yield r, Path(e.path), est
                if stat.S_ISDIR(est.st_mode):
                    stack.append((r, Path(e.path), cr))


def hash_sources(tree: SourceTree, sources: list[Source]) -> str:
    """Digest of names, types, modes, owners and contents of what a COPY/ADD would copy (not
    mtimes: touching a file does not invalidate the cache, changing it does)."""
    h = hashlib.sha256()
    for src in sources:
        h.update(f"S {src.rel}\0".encode())
        for rel, host, st in tree.walk(src):
            m = st.st_mode
            h.update(f"{rel}\0{stat.S_IFMT(m)}\0{stat.S_IMODE(m):o}\0{st.st_uid}:{st.st_gid}\0".encode())
            if stat.S_ISREG(m):
                with open(host, "rb") as f:
                    for chunk in iter(lambda f=f: f.read(1 << 20), b""):  # type: ignore[misc]
                        h.update(chunk)
            elif stat.S_ISLNK(m):
                h.update(os.readlink(host).encode(errors="surrogateescape"))
            h.update(b"\0")
    return h.hexdigest()


# ----------------------------------------------------------------------------- copying
@dataclass
class Owner:
    uid: int = 0
    gid: int = 0
    keep: bool = False  # keep each source file's uid/gid (COPY --from without --chown, like Docker)


def resolve_owner(rootfs: Path, chown: str | None, keep: bool = False) -> Owner:
    """Who copied files belong to: --chown's user[:group] looked up in the destination's
    /etc/passwd and /etc/group; else root (context files), or, with `keep` (a source that is
    another stage or image), the owner each file has there. New parent dirs are root's then."""
    if not chown:
        return Owner(0, 0, keep=keep)
    uid, gid = chown_ids(rootfs, chown)
    return Owner(uid, gid)


def _apply_meta(path: Path, st: os.stat_result, owner: Owner, chmod: int | None) -> None:
    is_link = stat.S_ISLNK(st.st_mode)
    if owner.keep:
        os.lchown(path, st.st_uid, st.st_gid)
    else:
        os.lchown(path, owner.uid, owner.gid)
    if not is_link:
        os.chmod(path, chmod if chmod is not None else stat.S_IMODE(st.st_mode))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _clear(path: Path, want_dir: bool) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if want_dir:
            return
        import shutil

        shutil.rmtree(path)
    else:
        os.unlink(path)


def _copy_file(src: Path, dst: Path) -> None:
    fdin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fdout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            size = os.fstat(fdin).st_size
            off = 0
            while off < size:
                n = os.sendfile(fdout, fdin, None, min(size - off, 1 << 30))
                if n == 0:
                    break
                off += n
        finally:
            os.close(fdout)
    finally:
        os.close(fdin)


def copy_tree(tree: SourceTree, src: Source, rootfs: Path, dest: str, owner: Owner, chmod: int | None) -> None:
    """Copy `src` to the container path `dest` (a directory's *contents* go into dest)."""
    dirs: list[tuple[Path, os.stat_result]] = []
    for rel, host, st in tree.walk(src):
        target_rel = dest.rstrip("/") + ("/" + rel if rel else "")
        if stat.S_ISDIR(st.st_mode):
            if rel == "":
                # the directory's contents go into dest; dest keeps its metadata (or is new: 0755)
                mkdir_p(rootfs, target_rel or "/", owner.uid, owner.gid)
                continue
            parent = scoped_resolve(rootfs, os.path.dirname(target_rel))
            real = parent / os.path.basename(target_rel)
            _clear(real, want_dir=True)
            if not real.is_dir():
                os.mkdir(real, 0o755)
            dirs.append((real, st))
            continue
        parent = mkdir_p(rootfs, os.path.dirname(target_rel) or "/", owner.uid, owner.gid)
        real = parent / os.path.basename(target_rel)
        _clear(real, want_dir=False)
        m = st.st_mode
        if stat.S_ISREG(m):
            _copy_file(host, real)
        elif stat.S_ISLNK(m):
            os.symlink(os.readlink(host), real)
        elif stat.S_ISFIFO(m):
            os.mkfifo(real, 0o600)
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
            os.mknod(real, stat.S_IFMT(m) | 0o600, st.st_rdev)
        else:
            continue  # sockets are not copied
        _apply_meta(real, st, owner, chmod)
    for real, st in reversed(dirs):
        _apply_meta(real, st, owner, chmod)


def write_file(rootfs: Path, dest: str, data: bytes, owner: Owner, mode: int, mtime: float | None = None) -> None:
    parent = mkdir_p(rootfs, os.path.dirname(dest) or "/", owner.uid, owner.gid)
    real = parent / os.path.basename(dest)
    _clear(real, want_dir=False)
    fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chown(real, owner.uid, owner.gid)
    os.chmod(real, mode)
    if mtime is not None:
        os.utime(real, (mtime, mtime))


def dest_is_dir(rootfs: Path, dest: str) -> bool:
    if dest.endswith("/"):
        return True
    return scoped_resolve(rootfs, dest).is_dir()


# ----------------------------------------------------------------------------- ADD archives
def archive_kind(path: Path) -> str | None:
    """gzip / bzip2 / xz / zstd / tar when `path` is a tar archive Docker's ADD would unpack."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return None
    if head.startswith(b"\x1f\x8b"):
        kind = "gzip"
    elif head.startswith(b"BZh"):
        kind = "bzip2"
    elif head.startswith(b"\xfd7zXZ\x00"):
        kind = "xz"
    elif head.startswith(b"\x28\xb5\x2f\xfd"):
        kind = "zstd"
    elif len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    else:
        return None
    # a compressed file is an archive only if it holds a tar
    try:
        with _open_archive(path, kind) as s:
            inner = s.read(512)
        return kind if len(inner) >= 262 and inner[257:262] == b"ustar" else None
    except Exception:  # noqa: BLE001 - a corrupt stream is just "not an archive" (copied as is)
        return None


def _open_archive(path: Path, kind: str) -> IO[bytes]:
    if kind == "gzip":
        import gzip

        return gzip.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
    return open(path, "rb")  # noqa: SIM115


def extract_archive(path: Path, kind: str, rootfs: Path, dest: str) -> None:
    """Unpack a tar into dest with the image store's safe unpacker (no entry can leave dest,
    nothing is written through a symlink)."""
    from engine.images.layers import LayerError, unpack

    real = mkdir_p(rootfs, dest)
    try:
        with _open_archive(path, kind) as s:
            unpack(s, real)
    except LayerError as e:
        raise CopyError(f"ADD {path.name}: {e.message}", field="source") from None


def parse_chmod(chmod: str | None) -> int | None:
    if chmod is None:
        return None
    if not re.fullmatch(r"[0-7]{1,4}", chmod):
        raise InvalidArgument(f"--chmod={chmod!r}: expected an octal mode such as 755", field="chmod")
    return int(chmod, 8)
