"""Filesystem helpers for build steps: scoped path resolution, an overlay of an image's layers
to change, users and groups of the image, and the layer tar of what a step changed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.errors import BerthError, InvalidArgument, RuntimeFailure

_MAX_LINKS = 255


def scoped_resolve(root: Path, path: str, *, follow_last: bool = True) -> Path:
    """Resolve `path` inside `root` as if root were `/`: symlinks (absolute or relative, `..`)
    never lead out of root (like moby's FollowSymlinkInScope). The result lies under root."""
    root_s = os.path.abspath(root)
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        cand = os.path.join(root_s, *done, part)
        if not todo and not follow_last:
            done.append(part)
            break
        try:
            st = os.lstat(cand)
        except (FileNotFoundError, NotADirectoryError):
            done.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise InvalidArgument(f"too many levels of symbolic links resolving {path!r}", field="path")
            target = os.readlink(cand)
            if target.startswith("/"):
                done = []
            todo = [p for p in target.split("/") if p not in ("", ".")] + todo
            continue
        done.append(part)
    return Path(root_s, *done)


def escapes(root: Path, path: str) -> str | None:
    """If following `path` inside root (host semantics) would leave root, say where it goes."""
    root_s = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root_s, path.lstrip("/")))
    if real == root_s or real.startswith(root_s + os.sep):
        return None
    return real


# ----------------------------------------------------------------------------- overlay
@dataclass
class Overlay:
    merged: Path
    upper: Path
    work: Path
    base: Path


@contextmanager
def scratch_dir(parent: Path, prefix: str) -> Iterator[Path]:
    parent.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield d
    finally:
        _rm(d)


def _rm(p: Path) -> None:
    subprocess.run(["rm", "-rf", "--one-file-system", str(p)], capture_output=True)
    if p.exists():
        shutil.rmtree(p, ignore_errors=True)


def overlay_opts(lower_dirs: list[Path], upper: Path, work: Path) -> str:
    return f"lowerdir={':'.join(str(d) for d in lower_dirs)},upperdir={upper},workdir={work}"


@contextmanager
def mounted_overlay(lower_dirs: list[Path], base: Path) -> Iterator[Overlay]:
    """Mount lower_dirs (top-most first) + a fresh upper dir under `base`; unmount on exit.
    `base/upper` stays for the caller to turn into a layer."""
    upper, work, merged, empty = base / "upper", base / "work", base / "merged", base / "empty"
    for d in (upper, work, merged, empty):
        d.mkdir(parents=True, exist_ok=True)
    lowers = list(lower_dirs) or [empty]
    p = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", overlay_opts(lowers, upper, work), str(merged)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeFailure(f"build: cannot mount the overlay for a build step: {p.stderr.strip()}")
    try:
        yield Overlay(merged=merged, upper=upper, work=work, base=base)
    finally:
        subprocess.run(["umount", str(merged)], capture_output=True)
        if os.path.ismount(merged):
            subprocess.run(["umount", "-l", str(merged)], capture_output=True)


def upper_is_empty(upper: Path) -> bool:
    try:
        return not any(os.scandir(upper))
    except FileNotFoundError:
        return True


def layer_tar(upper: Path, out_path: Path) -> None:
    from engine.images.layers import tar_from_overlay_upper

    with open(out_path, "wb") as f:
        tar_from_overlay_upper(upper, f)


# ----------------------------------------------------------------------------- users
def _db(root: Path, name: str) -> list[list[str]]:
    try:
        text = scoped_resolve(root, name).read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return []
    return [ln.split(":") for ln in text.splitlines() if ln and not ln.startswith("#")]


def lookup_user(root: Path, spec: str) -> tuple[int, int, str]:
    """USER semantics: `name|uid[:group|gid]` -> (uid, gid, home) through the image's files."""
    user, _, group = spec.partition(":")
    uid, gid, home = 0, 0, "/"
    if user:
        row = next((r for r in _db(root, "/etc/passwd") if len(r) >= 4 and r[0] == user), None)
        if row is None and user.isdigit():
            row = next((r for r in _db(root, "/etc/passwd") if len(r) >= 4 and r[2] == user), None)
            if row is None:
                uid = int(user)
        elif row is None:
            raise InvalidArgument(f"USER {spec!r}: unable to find user {user}: no matching entries in passwd file",
                                  field="USER")
        if row is not None:
            uid, gid = int(row[2]), int(row[3])
            home = row[5] if len(row) > 5 and row[5] else "/"
    if group:
        gid = lookup_group(root, group, f"USER {spec!r}")
    return uid, gid, home


def lookup_group(root: Path, group: str, what: str) -> int:
    if group.isdigit():
        return int(group)
    row = next((r for r in _db(root, "/etc/group") if len(r) >= 3 and r[0] == group), None)
    if row is None:
        raise InvalidArgument(f"{what}: unable to find group {group}: no matching entries in group file",
                              field="chown")
    return int(row[2])


def chown_ids(root: Path, spec: str) -> tuple[int, int]:
    """--chown semantics: `user[:group]`; a user without a group uses the same number as GID."""
    user, _, group = spec.partition(":")
    if not user:
        raise InvalidArgument(f"--chown={spec!r}: missing the user", field="chown")
    if user.isdigit():
        uid = int(user)
    else:
        row = next((r for r in _db(root, "/etc/passwd") if len(r) >= 4 and r[0] == user), None)
        if row is None:
            raise InvalidArgument(f"--chown={spec!r}: unable to find user {user}: no matching entries in passwd "
                                  "file", field="chown")
        uid = int(row[2])
    gid = lookup_group(root, group, f"--chown={spec!r}") if group else uid
    return uid, gid


def mkdir_p(root: Path, path: str, uid: int = 0, gid: int = 0) -> Path:
    """Create `path` (and parents) inside root, scoped; new dirs get uid/gid, 0755."""
    cur = "/"
    real = Path(root)
    for part in [p for p in path.split("/") if p not in ("", ".")]:
        cur = cur.rstrip("/") + "/" + part
        real = scoped_resolve(root, cur)
        try:
            st = os.lstat(real)
        except FileNotFoundError:
            os.mkdir(real, 0o755)
            os.chown(real, uid, gid)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise BerthError(f"cannot create directory {path!r}: {cur!r} exists and is not a directory",
                             field="path")
    return real
