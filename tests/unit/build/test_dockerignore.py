from __future__ import annotations

import pytest

from engine.build.dockerignore import Matcher, clean, read_patterns


def test_read_patterns_cleans_and_skips_comments() -> None:
    text = "\ufeff# comment\n\n  /abs/path/  \n./rel\n!  /keep\nx/../y\n #not-a-comment\n"
    assert read_patterns(text) == ["abs/path", "rel", "!keep", "y", "#not-a-comment"]


@pytest.mark.parametrize(("p", "want"), [("a/b/../c", "a/c"), ("./", "."), ("/", "/"), ("../x", "../x"),
                                         ("a//b/", "a/b")])
def test_clean(p: str, want: str) -> None:
    assert clean(p) == want


CASES = [
    # patterns, path, excluded?
    (["*.log"], "a.log", True),
    (["*.log"], "dir/a.log", False),  # * does not cross /
    (["**/*.log"], "dir/sub/a.log", True),
    (["**/*.log"], "a.log", True),  # ** matches zero dirs
    (["dir"], "dir/deep/file", True),  # a parent dir match excludes children
    (["dir/*"], "dir", False),
    (["dir/**"], "dir/x/y", True),
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[a-c].txt"], "b.txt", True),
    (["[!a-c].txt"], "d.txt", True),
    (["*", "!keep"], "keep", False),
    (["*", "!keep"], "other", True),
    (["*.md", "!README.md"], "README.md", False),
    (["!README.md", "*.md"], "README.md", True),  # order matters: last match wins
    (["docs", "!docs/keep.md"], "docs/keep.md", False),
    (["docs", "!docs/keep.md"], "docs/other.md", True),
    (["docs/*", "!docs/*.md", "docs/secret.md"], "docs/secret.md", True),
    (["/abs"], "abs", True),
    (["a\\*b"], "a*b", True),
    (["a\\*b"], "axb", False),
    (["node_modules"], "node_modules", True),
    (["node_modules"], "src/node_modules", False),
    (["**/node_modules"], "src/node_modules/x", True),
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), CASES)
def test_matches(patterns: list[str], path: str, excluded: bool) -> None:
    assert Matcher(read_patterns("\n".join(patterns))).matches(path) is excluded


def test_walk_into_excluded_dir_only_when_an_exception_can_match() -> None:
    m = Matcher(read_patterns("docs\n!docs/keep.md\n"))
    assert m.may_include_below("docs")
    assert not m.may_include_below("other")
    assert not Matcher(["docs"]).may_include_below("docs")


def test_per_dockerfile_ignore_file_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.build.dockerignore import load

    (tmp_path / ".dockerignore").write_text("global\n")
    df = tmp_path / "sub" / "app.Dockerfile"
    df.parent.mkdir()
    df.write_text("FROM x\n")
    assert load(tmp_path, df) == ["global"]
    (tmp_path / "sub" / "app.Dockerfile.dockerignore").write_text("specific\n")
    assert load(tmp_path, df) == ["specific"]
    assert load(tmp_path) == ["global"]
    assert load(tmp_path / "nope") == []
