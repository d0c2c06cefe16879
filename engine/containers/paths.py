"""Resolve paths inside a container's root filesystem without ever leaving it.

A path inside an image is untrusted: any component may be a symlink pointing at `/` or `..`.
`secure_join(root, path)` walks the components one by one, resolving symlinks as if `root`
were `/` (like filepath-securejoin), and returns a host path that lies under `root`.
"""

from __future__ import annotations

import os
from pathlib import Path

_MAX_LINKS = 255


def secure_join(root: str | os.PathLike[str], unsafe: str) -> Path:
    root_s = os.path.abspath(os.fspath(root))
    parts = [p for p in unsafe.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root_s, *resolved, part)
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            resolved.append(part)
            continue
        import stat

        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise OSError(f"too many symlinks resolving {unsafe!r}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return Path(root_s, *resolved)


def write_transient(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace a file atomically but without fsync: for files regenerated at every start
    (runtime spec, hostname, hosts, resolv.conf), where durability buys nothing."""
    p = os.fspath(path)
    tmp = f"{p}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, p)
