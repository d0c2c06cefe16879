"""Build contexts on the operator's machine: `.dockerignore` matching (Docker's rules), a content
hash that decides rebuilds, and the tar uploaded to the host."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import IO


def _clean(p: str) -> str:
    p = p.strip().replace("\\", "/")
    p = os.path.normpath(p).lstrip("/") if p else p
    return "" if p == "." else p


def _translate(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over slash paths."""
    i, n, out = 0, len(pattern), []
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern[i:i + 2] == "**":
                i += 2
                if pattern[i:i + 1] == "/":
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:j]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")


class DockerIgnore:
    def __init__(self, lines: list[str]) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:].strip()
            line = _clean(line)
            if not line:
                continue
            self.rules.append((negate, _translate(line)))

    @classmethod
    def load(cls, context: Path) -> DockerIgnore:
        f = context / ".dockerignore"
        return cls(f.read_text().splitlines() if f.is_file() else [])

    def ignored(self, rel: str) -> bool:
        """Docker's rule: the last matching pattern wins; a pattern matching a parent directory
        matches everything below it."""
        parents = rel.split("/")
        candidates = ["/".join(parents[:i]) for i in range(1, len(parents) + 1)]
        result = False
        for negate, rx in self.rules:
            if any(rx.match(c) for c in candidates):
                result = not negate
        return result


def context_files(context: Path, dockerfile: str | None = None) -> list[tuple[str, Path]]:
    """(relative path, absolute path) of every entry sent to the builder, sorted; the Dockerfile
    and .dockerignore are always sent (as Docker does)."""
    ign = DockerIgnore.load(context)
    keep = {".dockerignore", _clean(dockerfile or "Dockerfile")}
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(context, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            p = base / name
            rel = p.relative_to(context).as_posix()
            if ign.ignored(rel) and rel not in keep:
                # a directory is still walked: a later `!pattern` may bring back something below
                continue
            out.append((rel, p))
    return sorted(out)


def context_hash(context: Path, dockerfile: str | None = None) -> str:
    h = hashlib.sha256()
    for rel, p in context_files(context, dockerfile):
        st = p.lstat()
        h.update(rel.encode() + b"\0")
        if stat.S_ISLNK(st.st_mode):
            h.update(b"L" + os.readlink(p).encode())
        elif stat.S_ISDIR(st.st_mode):
            h.update(b"D")
        elif stat.S_ISREG(st.st_mode):
            h.update(b"F%o" % (st.st_mode & 0o7777))
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def context_tar(context: Path, dockerfile: str | None = None) -> IO[bytes]:
    """The context as an uncompressed tar (symlinks stored as links, never followed)."""
    f: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115 - returned to caller
    with tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, p in context_files(context, dockerfile):
            info = tar.gettarinfo(str(p), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isreg():
                with open(p, "rb") as src:
                    tar.addfile(info, src)
            elif info.isdir() or info.issym():
                tar.addfile(info)
    f.seek(0)
    return f


def read_all(f: IO[bytes]) -> bytes:
    f.seek(0)
    buf = io.BytesIO(f.read())
    return buf.getvalue()
