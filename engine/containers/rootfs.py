"""The container's root filesystem: an overlayfs of the image's unpacked layers (lower, top-most
first) plus the container's own `upper`/`work` dirs, mounted on `<container dir>/merged`.

Mount options must fit in one page; with many layers absolute lower paths do not, so the
lower dirs are given relative to their common parent and mount(2) is called from there.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from pathlib import Path

from engine.errors import RuntimeFailure

MNT_DETACH = 2
_libc = None


def libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        # not ctypes.util.find_library: it runs `ldconfig -p` (a process per call of berth)
        _libc = ctypes.CDLL("libc.so.6", use_errno=True)
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


def mount_overlay(lower: list[str], upper: Path, work: Path, target: Path, init: Path | None = None,
                  volatile: bool = False) -> None:
    """Overlay `lower` (top-most first), below `init` when given, under `upper` on `target`.

    `volatile` (a container removed when it exits) skips overlayfs's syncs, above all the
    sync of the whole upper filesystem at unmount: what such a container wrote is thrown away
    anyway. Overlayfs leaves `work/work/incompat/volatile` behind and refuses the next mount
    while it exists; Berth only mounts again after its own clean unmount, so it clears it.

    mount(2) takes its options in one page, so each lower dir is named through a short symlink
    (`<upper's parent>/L/<n>`, like overlay2's `l/` links) and the mount is made from that
    directory with relative paths: hundreds of layers fit."""
    upper.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    base = upper.parent
    if not lower:
        empty = base / "empty"
        empty.mkdir(exist_ok=True)
        lower = [str(empty)]
    links = base / "L"
    shutil.rmtree(links, ignore_errors=True)
    links.mkdir()
    names = []
    for i, p in enumerate(lower):
        os.symlink(os.path.abspath(p), links / str(i))
        names.append(f"L/{i}")
    if init is not None:
        names.insert(0, os.path.relpath(init, base))
    opts = (f"lowerdir={':'.join(names)},upperdir={os.path.relpath(upper, base)},"
            f"workdir={os.path.relpath(work, base)}")
    shutil.rmtree(work / "work" / "incompat" / "volatile", ignore_errors=True)
    if volatile:
        opts += ",volatile"
    if len(opts) >= os.sysconf("SC_PAGESIZE"):
        raise RuntimeFailure(f"overlay: {len(lower)} layers give mount options longer than a page "
                             f"({len(opts)} bytes)", field="Image")
    old = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.chdir(base)
        rc = libc().mount(b"overlay", os.fsencode(str(target)), b"overlay", 0, opts.encode())
        err = ctypes.get_errno()
        if rc != 0 and volatile and err == 22:  # EINVAL: a kernel before 5.10 has no `volatile`
            opts = opts[: -len(",volatile")]
            rc = libc().mount(b"overlay", os.fsencode(str(target)), b"overlay", 0, opts.encode())
            err = ctypes.get_errno()
    finally:
        os.fchdir(old)
        os.close(old)
    if rc != 0:
        raise RuntimeFailure(f"overlay mount on {target} failed: {os.strerror(err)} ({opts})")


MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8


def mount_shm(target: Path, size: int) -> None:
    """A tmpfs for a shareable /dev/shm (IpcMode shareable), on the host so that containers
    joining the IPC namespace can bind the same one."""
    target.mkdir(parents=True, exist_ok=True)
    umount(target)  # one a crash left behind holds the last run's data
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if libc().mount(b"shm", os.fsencode(str(target)), b"tmpfs", flags, f"mode=1777,size={size}".encode()) != 0:
        raise RuntimeFailure(f"mounting the shared /dev/shm at {target} failed: "
                             f"{os.strerror(ctypes.get_errno())}", field="IpcMode")


def umount(target: str | os.PathLike[str]) -> None:
    t = os.fsencode(os.fspath(target))
    while is_mounted(target):
        if libc().umount2(t, 0) != 0:
            err = ctypes.get_errno()
            if err == 22:  # EINVAL: not a mount point (any more)
                return
            if libc().umount2(t, MNT_DETACH) != 0:
                raise RuntimeFailure(f"unmount {os.fsdecode(t)} failed: {os.strerror(ctypes.get_errno())}")
