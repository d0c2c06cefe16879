"""Build context sources: lookup, globbing, .dockerignore, escapes and the content digest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.build.copier import CopyError, SourceTree, archive_kind, copy_tree, hash_sources, resolve_owner
from engine.build.dockerignore import Matcher, read_patterns
from engine.build.fsutil import scoped_resolve


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    c = tmp_path / "ctx"
    for rel, data in {"a.txt": "a", "b.txt": "b", "dir/x.c": "x", "dir/sub/y.c": "y", "skip.log": "s"}.items():
        p = c / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(data)
    (tmp_path / "outside").write_text("secret")
    return c


def tree(ctx: Path, ignore: str = "") -> SourceTree:
    return SourceTree(ctx, Matcher(read_patterns(ignore)))


def test_resolve_plain_glob_and_root(ctx: Path) -> None:
    t = tree(ctx)
    assert [s.rel for s in t.resolve("a.txt", "COPY")] == ["a.txt"]
    assert [s.rel for s in t.resolve("*.txt", "COPY")] == ["a.txt", "b.txt"]
    assert [s.rel for s in t.resolve("dir/*/*.c", "COPY")] == ["dir/sub/y.c"]
    assert [s.rel for s in t.resolve(".", "COPY")] == [""]
    assert [s.rel for s in t.resolve("/dir/../a.txt", "COPY")] == ["a.txt"]


@pytest.mark.parametrize("bad", ["../outside", "dir/../../outside", ".."])
def test_parent_escape_refused(ctx: Path, bad: str) -> None:
    with pytest.raises(CopyError, match="outside the build context"):
        tree(ctx).resolve(bad, "COPY")


def test_symlink_escape_refused_inside_link_allowed(ctx: Path) -> None:
    os.symlink("../outside", ctx / "up")
    os.symlink("/etc", ctx / "etcdir")
    os.symlink("a.txt", ctx / "inside")
    t = tree(ctx)
    for bad in ("up", "etcdir/passwd"):
        with pytest.raises(CopyError, match="points outside the build context"):
            t.resolve(bad, "COPY")
    assert t.resolve("inside", "COPY")[0].path == (ctx / "a.txt").resolve()


def test_missing_and_ignored(ctx: Path) -> None:
    t = tree(ctx, "*.log\ndir/sub\n")
    with pytest.raises(CopyError, match="excluded by .dockerignore: skip.log"):
        t.resolve("skip.log", "COPY")
    with pytest.raises(CopyError, match="matches nothing"):
        t.resolve("*.log", "COPY")
    with pytest.raises(CopyError, match="not found"):
        t.resolve("nope", "COPY")
    walked = [r for r, _p, _s in t.walk(t.resolve(".", "COPY")[0])]
    assert "skip.log" not in walked and "dir/sub" not in walked and "dir/x.c" in walked


def test_content_digest_tracks_content_and_mode_not_mtime(ctx: Path) -> None:
    t = tree(ctx)
    src = t.resolve(".", "COPY")

    def digest() -> str:
        return hash_sources(t, src)

    d0 = digest()
    os.utime(ctx / "a.txt", (5, 5))
    assert digest() == d0
    os.chmod(ctx / "a.txt", 0o600)
    d1 = digest()
    assert d1 != d0
    (ctx / "a.txt").write_text("changed")
    assert digest() != d1


@pytest.mark.requires("root")
def test_content_digest_tracks_owner(ctx: Path) -> None:
    t = tree(ctx)
    src = t.resolve("dir", "COPY")
    d0 = hash_sources(t, src)
    os.chown(ctx / "dir" / "x.c", 1234, 5678)
    assert hash_sources(t, src) != d0


@pytest.mark.requires("root")
def test_copy_from_another_root_keeps_owners_unless_chown(tmp_path: Path) -> None:
    """COPY --from=stage without --chown keeps each file's owner there (Docker); context
    files, and anything with --chown, get the given owner (root by default)."""
    src_root = tmp_path / "stage"
    (src_root / "home/app").mkdir(parents=True)
    (src_root / "home/app/f").write_text("f")
    os.chown(src_root / "home/app", 1000, 1001)
    os.chown(src_root / "home/app/f", 1000, 1001)
    (src_root / "etc").mkdir()
    (src_root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nweb:x:33:34::/:/bin/sh\n")
    t = SourceTree(src_root, None, is_context=False)
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "etc").mkdir()
    (dst / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nweb:x:33:34::/:/bin/sh\n")

    def owner(p: Path) -> tuple[int, int]:
        st = os.lstat(p)
        return st.st_uid, st.st_gid

    copy_tree(t, t.resolve("/home/app", "COPY")[0], dst, "/kept", resolve_owner(dst, None, keep=True), None)
    assert owner(dst / "kept/f") == (1000, 1001)
    copy_tree(t, t.resolve("/home/app", "COPY")[0], dst, "/chowned", resolve_owner(dst, "web", keep=True), None)
    assert owner(dst / "chowned/f") == (33, 33)
    copy_tree(t, t.resolve("/home/app", "COPY")[0], dst, "/rooted", resolve_owner(dst, None), None)
    assert owner(dst / "rooted/f") == (0, 0)


def test_archive_detection(tmp_path: Path) -> None:
    import gzip
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("f")
        tf.addfile(ti, io.BytesIO(b""))
    (tmp_path / "t.tar").write_bytes(buf.getvalue())
    (tmp_path / "t.tgz").write_bytes(gzip.compress(buf.getvalue()))
    (tmp_path / "not.gz").write_bytes(gzip.compress(b"just text"))
    (tmp_path / "plain").write_text("hello")
    assert archive_kind(tmp_path / "t.tar") == "tar"
    assert archive_kind(tmp_path / "t.tgz") == "gzip"
    assert archive_kind(tmp_path / "not.gz") is None
    assert archive_kind(tmp_path / "plain") is None


def test_scoped_resolve_never_leaves_root(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "usr/bin").mkdir(parents=True)
    os.symlink("/usr/bin", root / "bin")
    os.symlink("../../../../..", root / "up")
    assert scoped_resolve(root, "/bin/sh") == root / "usr/bin/sh"
    assert scoped_resolve(root, "/up/etc/passwd") == root / "etc/passwd"
    assert scoped_resolve(root, "../../x") == root / "x"
