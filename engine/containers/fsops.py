"""Filesystem verbs on a container's rootfs: cp (both ways), diff, export, commit.

A stopped container's rootfs is mounted for the duration of the operation (under the
container's lock) and unmounted afterwards; a running one's is used in place. Container-side
paths are resolved with `secure_join`, so a symlink in the image never leads outside it."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.containers import deps, rootfs, store
from engine.containers.paths import secure_join
from engine.errors import InvalidArgument, NotFound, RuntimeFailure

if TYPE_CHECKING:
    from engine.context import Context


@contextmanager
def mounted(ctx: Context, ref: str) -> Iterator[tuple[dict[str, Any], Path]]:
    cid = store.resolve_id(ctx, ref)
    rec = store.load(ctx, cid)
    merged = store.cdir(ctx, cid) / "merged"
    if rootfs.is_mounted(merged):
        yield rec, merged
        return
    from engine.util.lock import locked

    with locked(ctx, f"container-{cid}"):
        image = deps.resolve_image(ctx, rec["Image"])
        d = store.cdir(ctx, cid)
        rootfs.mount_overlay([str(p) for p in image.layer_dirs()], d / "upper", d / "work", merged,
                             init=rootfs.make_init_layer(d / "init"))
        try:
            yield rec, merged
        finally:
            rootfs.umount(merged)


def _split(arg: str) -> tuple[str | None, str]:
    if arg == "-" or arg.startswith(("/", ".")):
        return None, arg
    name, sep, path = arg.partition(":")
    if not sep:
        return None, arg
    return name, path or "/"


def cp(ctx: Context, src: str, dst: str, follow: bool = False) -> None:
    try:
        _cp(ctx, src, dst, follow)
    except OSError as e:
        raise RuntimeFailure(f"cp {src} {dst}: {e.strerror or e}: {e.filename or ''}", field="dst") from None


def _cp(ctx: Context, src: str, dst: str, follow: bool) -> None:
    sc, sp = _split(src)
    dc, dp = _split(dst)
    if (sc is None) == (dc is None):
        raise InvalidArgument("cp: exactly one of SRC and DEST must be CONTAINER:PATH", field="src")
    if sc is not None:
        with mounted(ctx, sc) as (_rec, root):
            s = secure_join(root, sp)
            if follow and s.is_symlink():
                s = secure_join(root, os.path.join(os.path.dirname(sp), os.readlink(s)))
            if not os.path.lexists(s):
                raise NotFound(f"cp: could not find the file {sp} in container {sc}", field="src")
            if dp == "-":
                with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as tf:
                    tf.add(str(s), arcname=os.path.basename(sp.rstrip("/")) or ".")
                return
            target = Path(dp)
            if target.is_dir():
                target = target / s.name
            _copy(s, target)
        return
    assert dc is not None
    with mounted(ctx, dc) as (_rec, root):
        if sp == "-":
            t = secure_join(root, dp)
            _extract_safely(sys.stdin.buffer, root, t)
            return
        s = Path(sp)
        if not os.path.lexists(s):
            raise NotFound(f"cp: could not find the file {sp}", field="src")
        t = secure_join(root, dp)
        rel = os.path.relpath(t, root)
        if t.is_dir() and not dp.endswith("/."):
            rel = os.path.join(rel, s.name)
        if not secure_join(root, os.path.dirname(rel) or "/").is_dir():
            raise NotFound(f"cp: destination directory {os.path.dirname(dp)} does not exist in container {dc}",
                           field="dst")
        _copy_in(s, root, rel)


def _copy(s: Path, t: Path) -> None:
    if s.is_dir() and not s.is_symlink():
        shutil.copytree(s, t, symlinks=True, dirs_exist_ok=t.is_dir() and not t.is_symlink())
    else:
        if t.is_symlink():
            t.unlink()
        shutil.copy2(s, t, follow_symlinks=False)


def _copy_in(src: Path, root: Path, rel: str) -> None:
    """Copy a host file or tree into the rootfs at `rel`, resolving every destination path
    inside the rootfs (an existing symlink in the container never leads the copy outside)."""
    if src.is_symlink() or not src.is_dir():
        _copy(src, secure_join(root, rel))
        return
    for dirpath, dirnames, filenames in os.walk(src):
        sub = os.path.relpath(dirpath, src)
        base = os.path.normpath(os.path.join(rel, sub))
        d = secure_join(root, base)
        if d.is_symlink() or (d.exists() and not d.is_dir()):
            d.unlink()
        d.mkdir(parents=True, exist_ok=True)
        shutil.copystat(dirpath, d)
        for name in filenames + [n for n in dirnames if os.path.islink(os.path.join(dirpath, n))]:
            _copy(Path(dirpath, name), secure_join(root, os.path.join(base, name)))
        dirnames[:] = [n for n in dirnames if not os.path.islink(os.path.join(dirpath, n))]


def _extract_safely(stream: Any, root: Path, target: Path) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for m in tf:
            dest = secure_join(root, os.path.join(str(target.relative_to(root)), m.name))
            if m.isdir():
                dest.mkdir(parents=True, exist_ok=True)
            elif m.isfile():
                dest.parent.mkdir(parents=True, exist_ok=True)
                f = tf.extractfile(m)
                with open(dest, "wb") as out:
                    shutil.copyfileobj(f, out)  # type: ignore[arg-type]
                os.chmod(dest, m.mode & 0o7777)
            elif m.issym():
                dest.parent.mkdir(parents=True, exist_ok=True)
                if os.path.lexists(dest):
                    os.unlink(dest)
                os.symlink(m.linkname, dest)


def diff(ctx: Context, ref: str) -> list[tuple[str, str]]:
    """Docker's `diff`: A added, C changed, D deleted, from the overlay upper dir."""
    cid = store.resolve_id(ctx, ref)
    rec = store.load(ctx, cid)
    upper = store.cdir(ctx, cid) / "upper"
    lowers = [store.cdir(ctx, cid) / "init", *(Path(p) for p in deps.resolve_image(ctx, rec["Image"]).layer_dirs())]
    out: dict[str, str] = {}

    def in_lower(rel: str) -> bool:
        return any(os.path.lexists(lp / rel) for lp in lowers)

    for dirpath, dirnames, filenames in os.walk(upper):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, upper)
            st = os.lstat(full)
            path = "/" + rel
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                out[path] = "D"
            else:
                out[path] = "C" if in_lower(rel) else "A"
            parent = os.path.dirname(path)
            while parent not in ("/", "") and parent not in out:
                out[parent] = "C"
                parent = os.path.dirname(parent)
    return sorted(((k, p) for p, k in out.items()), key=lambda x: x[1])


def export(ctx: Context, ref: str, output: str | None) -> None:
    with mounted(ctx, ref) as (_rec, root):
        fobj = open(output, "wb") if output else sys.stdout.buffer
        try:
            with tarfile.open(fileobj=fobj, mode="w|", format=tarfile.PAX_FORMAT) as tf:
                for entry in sorted(os.listdir(root)):
                    tf.add(os.path.join(root, entry), arcname=entry)
        finally:
            if output:
                fobj.close()


def commit(ctx: Context, ref: str, repository: str | None, *, author: str = "", message: str = "",
           changes: list[str] | None = None, pause: bool = True) -> str:
    """An image from the container's changes (its upper dir) on top of its image."""
    from engine.images.layers import tar_from_overlay_upper
    from engine.images.store import ImageStore

    cid = store.resolve_id(ctx, ref)
    rec = store.load(ctx, cid)
    istore = ImageStore(ctx)
    parent = deps.resolve_image(ctx, rec["Image"])
    c = rec["Config"]
    img_cfg = dict(parent.config.get("config") or {})
    for k in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes",
              "StopSignal", "Healthcheck"):
        if c.get(k) not in (None, "", [], {}):
            img_cfg[k] = c[k]
    for ch in changes or []:
        _apply_change(img_cfg, ch)
    cfg = {"config": img_cfg}
    if author:
        cfg["author"] = author
    paused_here = False
    if pause and rec["State"]["Running"] and not rec["State"]["Paused"]:
        from engine.containers import api

        api.pause(ctx, cid)
        paused_here = True
    try:
        with tempfile.NamedTemporaryFile(dir=str(ctx.tmp_dir), suffix=".tar") as tmp:
            tar_from_overlay_upper(store.cdir(ctx, cid) / "upper", tmp)  # type: ignore[arg-type]
            tmp.flush()
            tags = [repository] if repository else []
            hist = [{"created": store.now(), "created_by": " ".join([rec["Path"], *rec["Args"]]),
                     "comment": message, **({"author": author} if author else {})}]
            img = istore.commit(cfg, [Path(tmp.name)], hist, tags=tags, parent=parent)
    finally:
        if paused_here:
            from engine.containers import api

            api.unpause(ctx, cid)
    return img.id


def _apply_change(cfg: dict[str, Any], change: str) -> None:
    import json

    instr, _, rest = change.strip().partition(" ")
    instr = instr.upper()
    rest = rest.strip()

    def words() -> list[str]:
        if rest.startswith("["):
            try:
                return list(json.loads(rest))
            except ValueError:
                pass
        return ["/bin/sh", "-c", rest]

    if instr == "CMD":
        cfg["Cmd"] = words()
    elif instr == "ENTRYPOINT":
        cfg["Entrypoint"] = words()
    elif instr == "ENV":
        k, sep, v = rest.partition("=")
        if not sep:
            k, _, v = rest.partition(" ")
        env = [e for e in cfg.get("Env") or [] if not e.startswith(k + "=")]
        cfg["Env"] = env + [f"{k}={v}"]
    elif instr == "WORKDIR":
        cfg["WorkingDir"] = rest
    elif instr == "USER":
        cfg["User"] = rest
    elif instr == "LABEL":
        k, _, v = rest.partition("=")
        cfg.setdefault("Labels", {})[k] = v.strip('"')
    elif instr == "EXPOSE":
        for p in rest.split():
            cfg.setdefault("ExposedPorts", {})[p if "/" in p else p + "/tcp"] = {}
    elif instr == "VOLUME":
        for p in (json.loads(rest) if rest.startswith("[") else rest.split()):
            cfg.setdefault("Volumes", {})[p] = {}
    elif instr == "STOPSIGNAL":
        cfg["StopSignal"] = rest
    else:
        raise InvalidArgument(f"change: {instr} is not a supported commit change", field="change")
