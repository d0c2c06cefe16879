"""The container's root filesystem: an overlayfs of the image's unpacked layers (lower, top-most
first) plus the container's own `upper`/`work` dirs, mounted on `<container dir>/merged`.

Mount options must fit in one page; with many layers absolute lower paths do not, so the
lower dirs are given relative to their common parent and mount(2) is called from there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

from engine.errors import RuntimeFailure

MNT_DETACH = 2
_libc = None


def libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def is_mounted(path: str | os.PathLike[str]) -> bool:
    p = os.fspath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if line.split()[4] == p:
                return True
    return False


# Mount points the runtime needs in every container. They live in a per-container "init" layer
# (like Docker's <id>-init) between the image and the upper dir, so runc does not create them in
# the upper dir, and `diff`/`commit` do not see them.
INIT_DIRS = ["proc", "sys", "dev", "dev/pts", "dev/shm", "dev/mqueue", "etc"]
INIT_FILES = ["etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv"]


def make_init_layer(path: Path) -> Path:
    if (path / ".dockerenv").exists():
        return path
    for d in INIT_DIRS:
        (path / d).mkdir(parents=True, exist_ok=True, mode=0o755)
    for f in INIT_FILES:
        (path / f).touch(mode=0o644)
    return path


def mount_overlay(lower: list[str], upper: Path, work: Path, target: Path, init: Path | None = None) -> None:
    """Overlay `lower` (top-most first), below `init` when given, under `upper` on `target`."""
    upper.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    if not lower:
        empty = upper.parent / "empty"
        empty.mkdir(exist_ok=True)
        lower = [str(empty)]
    base = os.path.commonpath([os.path.abspath(p) for p in lower])
    if len(lower) == 1:
        base = os.path.dirname(os.path.abspath(lower[0]))
    rel = [os.path.relpath(os.path.abspath(p), base) for p in lower]
    if init is not None:
        rel.insert(0, str(init))
    opts = f"lowerdir={':'.join(rel)},upperdir={upper},workdir={work}"
    if len(opts) >= os.sysconf("SC_PAGESIZE"):
        raise RuntimeFailure(f"overlay: {len(lower)} layers give mount options longer than a page "
                             f"({len(opts)} bytes)", field="Image")
    old = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.chdir(base)
        rc = libc().mount(b"overlay", os.fsencode(str(target)), b"overlay", 0, opts.encode())
        err = ctypes.get_errno()
    finally:
        os.fchdir(old)
        os.close(old)
    if rc != 0:
        raise RuntimeFailure(f"overlay mount on {target} failed: {os.strerror(err)} ({opts})")


def umount(target: str | os.PathLike[str]) -> None:
    t = os.fsencode(os.fspath(target))
    while is_mounted(target):
        if libc().umount2(t, 0) != 0:
            err = ctypes.get_errno()
            if err == 22:  # EINVAL: not a mount point (any more)
                return
            if libc().umount2(t, MNT_DETACH) != 0:
                raise RuntimeFailure(f"unmount {os.fsdecode(t)} failed: {os.strerror(ctypes.get_errno())}")
