"""Build contexts: .dockerignore (Docker's matching rules) and the hash that decides rebuilds."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from pulumi_berth._context import DockerIgnore, context_files, context_hash, context_tar


@pytest.mark.parametrize(("patterns", "path", "ignored"), [
    (["*.log"], "a.log", True),
    (["*.log"], "dir/a.log", False),  # no implicit **: like Docker
    (["**/*.log"], "dir/sub/a.log", True),
    (["**/*.log"], "a.log", True),
    (["build"], "build/x/y.o", True),  # a matching directory takes everything below it
    (["build", "!build/keep.txt"], "build/keep.txt", False),
    (["*", "!src"], "src/main.c", False),
    (["/secret.txt"], "secret.txt", True),
    (["# comment", ""], "x", False),
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[a-c].txt"], "b.txt", True),
    (["!x", "x"], "x", True),  # last match wins
])
def test_dockerignore(patterns: list[str], path: str, ignored: bool) -> None:
    assert DockerIgnore(patterns).ignored(path) is ignored


def _ctx(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n")
    (tmp_path / "app").write_text("v1")
    (tmp_path / "notes.log").write_text("noise")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f").write_text("f")
    (tmp_path / "link").symlink_to("/etc/passwd")
    (tmp_path / ".dockerignore").write_text("*.log\nDockerfile\n")
    return tmp_path


def test_hash_follows_content_and_ignores_ignored_files(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    h1 = context_hash(ctx)
    assert h1.startswith("sha256:") and context_hash(ctx) == h1
    (ctx / "notes.log").write_text("more noise")  # ignored: no rebuild
    assert context_hash(ctx) == h1
    (ctx / "app").write_text("v2")
    h2 = context_hash(ctx)
    assert h2 != h1
    (ctx / "app").chmod(0o755)  # mode matters
    assert context_hash(ctx) != h2


def test_dockerfile_and_dockerignore_always_sent(tmp_path: Path) -> None:
    names = [rel for rel, _ in context_files(_ctx(tmp_path))]
    assert "Dockerfile" in names and ".dockerignore" in names
    assert "notes.log" not in names and "sub/f" in names


def test_tar_keeps_symlinks_as_links(tmp_path: Path) -> None:
    with context_tar(_ctx(tmp_path)) as f, tarfile.open(fileobj=f) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["link"].issym() and members["link"].linkname == "/etc/passwd"
    assert "notes.log" not in members
    assert members["app"].uid == 0
