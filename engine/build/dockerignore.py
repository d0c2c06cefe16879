""".dockerignore: reading the file and matching paths with Docker's rules (moby `patternmatcher`).

- One pattern a line; lines starting with `#` are comments; blank lines are skipped.
- Patterns are cleaned like Go's `filepath.Clean` and a leading `/` is dropped, so `/a`, `a/`
  and `./a` all mean `a` relative to the context root.
- `*` and `?` never cross `/`; `**` matches any number of directories (zero included);
  `[...]` are character classes; the backslash escapes the next character.
- A pattern matches a path or any of its parent directories (excluding `dir` excludes all in it).
- `!pattern` re-includes what an earlier pattern excluded; the last matching pattern wins.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path


def clean(p: str) -> str:
    """Go's filepath.Clean for slash paths."""
    if not p:
        return "."
    rooted = p.startswith("/")
    out: list[str] = []
    for part in p.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    s = "/".join(out)
    if rooted:
        return "/" + s
    return s or "."


def read_patterns(text: str) -> list[str]:
    pats: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i == 0:
            line = line.lstrip("\ufeff")
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        pats.append(("!" if invert else "") + line)
    return pats


def load(context_dir: Path, dockerfile: Path | None = None) -> list[str]:
    """Patterns of `<Dockerfile>.dockerignore` beside the Dockerfile when there is one
    (buildkit's per-Dockerfile ignore file), else of `<context>/.dockerignore`."""
    candidates = [context_dir / ".dockerignore"]
    if dockerfile is not None:
        candidates.insert(0, dockerfile.parent / (dockerfile.name + ".dockerignore"))
    for f in candidates:
        try:
            return read_patterns(f.read_text(errors="surrogateescape"))
        except (FileNotFoundError, NotADirectoryError):
            continue
    return []


@dataclass
class _Pattern:
    text: str
    exclusion: bool
    rx: re.Pattern[str]
    dirs: list[str]


def _compile(pat: str) -> re.Pattern[str]:
    rx = "^"
    i, n = 0, len(pat)
    while i < n:
        ch = pat[i]
        i += 1
        if ch == "*":
            if i < n and pat[i] == "*":
                i += 1
                if i < n and pat[i] == "/":
                    i += 1
                if i >= n:
                    rx += ".*"
                else:
                    rx += "(.*/)?"
            else:
                rx += "[^/]*"
        elif ch == "?":
            rx += "[^/]"
        elif ch == "\\":
            if i < n:
                rx += re.escape(pat[i])
                i += 1
            else:
                rx += "\\\\"
        elif ch == "[":
            j = pat.find("]", i + 1 if i < n and pat[i] in "!^" else i)
            if j < 0:
                rx += "\\["
                continue
            body = pat[i:j]
            if body.startswith("!"):
                body = "^" + body[1:]
            rx += "[" + body.replace("\\", "\\\\") + "]"
            i = j + 1
        else:
            rx += re.escape(ch)
    return re.compile(rx + "$", re.DOTALL)


class Matcher:
    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[_Pattern] = []
        for p in patterns:
            excl = p.startswith("!")
            body = p[1:] if excl else p
            if not body:
                raise ValueError(f".dockerignore: illegal exclusion pattern {p!r}")
            self.patterns.append(_Pattern(p, excl, _compile(body), body.split("/")))
        self.has_exclusions = any(p.exclusion for p in self.patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, rel: str) -> bool:
        """True when the context-relative path `rel` is excluded from the build context."""
        rel = clean(rel)
        parent = posixpath.dirname(rel)
        parent_dirs = parent.split("/") if parent else []
        matched = False
        for p in self.patterns:
            if p.exclusion != matched:
                continue
            hit = bool(p.rx.match(rel))
            if not hit and parent:
                for i in range(len(parent_dirs)):
                    if p.rx.match("/".join(parent_dirs[: i + 1])):
                        hit = True
                        break
            if hit:
                matched = not p.exclusion
        return matched

    def may_include_below(self, rel_dir: str) -> bool:
        """Whether an excluded directory could still hold re-included files (so walk into it)."""
        if not self.has_exclusions:
            return False
        parts = clean(rel_dir).split("/")
        for p in self.patterns:
            if not p.exclusion:
                continue
            if "**" in p.text:
                return True
            pd = p.dirs
            # the exception's leading components must be able to match rel_dir's
            ok = True
            for a, b in zip(pd, parts, strict=False):
                if not _compile(a).match(b):
                    ok = False
                    break
            if ok and len(pd) > len(parts):
                return True
        return False
