"""Dockerfile text -> AST (buildkit `frontend/dockerfile/parser`).

One `Node` per instruction, with the lines it spans. Nothing here knows what an instruction
means: `instructions.py` turns nodes into typed instructions and validates flags and arguments.

Handled here: the parser directives at the top of the file (`# escape=`, `# syntax=`, `# check=`),
comments (also inside continuations), line continuations with the escape character (trailing
blanks allowed, empty continuation lines skipped), leading `--flags`, JSON (exec) vs shell
form, `KEY=value` word splitting for ENV/LABEL/ARG (quotes kept: word expansion removes them
later), ONBUILD sub-instructions, and here-documents (`<<EOF`, `<<-EOF`, `<<"EOF"`) for RUN,
COPY and ADD.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InvalidArgument


class DockerfileError(InvalidArgument):
    """A Dockerfile problem; the message names the file, the line and the instruction."""

    def __init__(self, message: str, *, line: int | None = None, instruction: str | None = None,
                 filename: str = "Dockerfile") -> None:
        self.line = line
        self.instruction = instruction
        self.bare = message
        where = filename + (f":{line}" if line else "")
        what = f" {instruction.upper()}:" if instruction else ""
        super().__init__(f"{where}:{what} {message}", field="dockerfile")


@dataclass
class Heredoc:
    name: str
    content: str
    expand: bool = True  # False when any part of the delimiter was quoted
    chomp: bool = False  # <<- : strip leading tabs
    fd: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "content": self.content, "expand": self.expand, "chomp": self.chomp,
                "fd": self.fd}


@dataclass
class Node:
    cmd: str  # lower-cased instruction keyword
    original: str  # the logical line as written (continuations joined)
    args: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    json: bool = False  # exec (JSON array) form
    start_line: int = 0
    end_line: int = 0
    heredocs: list[Heredoc] = field(default_factory=list)
    sub: Node | None = None  # ONBUILD's instruction
    kv_sep: str = ""  # ENV/LABEL: "=" for the name=value form, " " for the legacy form

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"cmd": self.cmd, "lines": [self.start_line, self.end_line]}
        if self.flags:
            d["flags"] = self.flags
        d["args"] = self.args
        if self.json:
            d["json"] = True
        if self.kv_sep:
            d["kv"] = self.kv_sep
        if self.heredocs:
            d["heredocs"] = [h.to_json() for h in self.heredocs]
        if self.sub is not None:
            d["sub"] = self.sub.to_json()
        return d


@dataclass
class Result:
    nodes: list[Node]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"escape": self.escape}
        if self.directives:
            d["directives"] = self.directives
        d["nodes"] = [n.to_json() for n in self.nodes]
        if self.warnings:
            d["warnings"] = self.warnings
        return d


_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_WS_RE = re.compile(r"[\t\v\f\r ]+")
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")
_HEREDOC_CMDS = {"run", "copy", "add"}


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """(line without the trailing escape, is_end_of_line)."""
    m = re.search(re.escape(escape) + r"[ \t]*$", line)
    if m:
        return line[: m.start()], False
    return line, True


class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self.seen: dict[str, str] = {}
        self.done = False

    def feed(self, line: str, lineno: int) -> None:
        if self.done:
            return
        m = _DIRECTIVE_RE.match(line)
        if not m:
            self.done = True
            return
        key, value = m.group(1).lower(), m.group(2)
        if key in self.seen:
            raise DockerfileError(f"only one {key} parser directive can be used", line=lineno)
        self.seen[key] = value
        if key == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError(f"invalid escape token {value!r} does not match ` or \\", line=lineno)
            self.escape = value


def parse(text: str, filename: str = "Dockerfile") -> Result:
    try:
        return _parse(text)
    except DockerfileError as e:
        if filename != "Dockerfile":
            raise DockerfileError(e.bare, line=e.line, instruction=e.instruction, filename=filename) from None
        raise


def _parse(text: str) -> Result:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    d = _Directives()
    nodes: list[Node] = []
    warnings: list[str] = []
    i = 0  # index of the next line to read; line numbers are 1-based
    n = len(lines)
    while i < n:
        raw = lines[i]
        i += 1
        lineno = i
        if _is_comment(raw):
            d.feed(raw.lstrip(" \t"), lineno)
            continue
        d.done = True
        stripped = raw.lstrip(" \t")
        line, eol = _trim_continuation(stripped, d.escape)
        if eol and not line.strip():
            continue
        start = lineno
        empty_continuation = False
        while not eol and i < n:
            nxt = lines[i]
            i += 1
            if _is_comment(nxt):
                continue
            if not nxt.strip():
                empty_continuation = True
                continue
            part, eol = _trim_continuation(nxt, d.escape)
            line += part
        if empty_continuation:
            warnings.append(f"line {start}: empty continuation line (deprecated; remove it)")
        if not line.strip():
            continue
        node = _node_from_line(line, d.escape, start)
        if node.cmd in _HEREDOC_CMDS and not node.json and "<<" in line:
            for doc in _heredocs_in(line, start):
                body: list[str] = []
                terminated = False
                while i < n:
                    ln = lines[i]
                    i += 1
                    candidate = ln.lstrip("\t") if doc.chomp else ln
                    if candidate == doc.name:
                        terminated = True
                        break
                    body.append(ln + "\n")
                if not terminated:
                    raise DockerfileError(f"unterminated heredoc {doc.name!r} (no line {doc.name!r} before the "
                                          "end of the file)", line=start, instruction=node.cmd)
                doc.content = "".join(body)
                node.heredocs.append(doc)
        node.start_line, node.end_line = start, i
        nodes.append(node)
    return Result(nodes=nodes, escape=d.escape, directives=dict(d.seen), warnings=warnings)


def _heredocs_in(line: str, lineno: int) -> list[Heredoc]:
    from engine.build.shell_lex import Lexer, ShellSyntaxError

    raw = Lexer("\\", raw_quotes=True, raw_escapes=True, skip_unset=True)
    try:
        words = raw.process_words(line, {})
    except ShellSyntaxError:
        return []  # the shell in the container reports it
    docs = []
    for w in words:
        m = _HEREDOC_RE.match(w)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        try:
            cooked = Lexer("\\", skip_unset=True).process_words(rest, {})
            rawed = Lexer("\\", raw_quotes=True, skip_unset=True).process_words(rest, {})
        except ShellSyntaxError as e:
            raise DockerfileError(f"bad heredoc delimiter {rest!r}: {e}", line=lineno) from None
        if len(cooked) != 1:
            continue
        quotes = cooked[0].count("'") + cooked[0].count('"')
        raw_quotes = rawed[0].count("'") + rawed[0].count('"')
        docs.append(Heredoc(name=cooked[0], content="", expand=quotes == raw_quotes, chomp=m.group(2) == "-",
                            fd=int(m.group(1) or 0)))
    return docs


def _node_from_line(line: str, escape: str, lineno: int) -> Node:
    parts = _WS_RE.split(line.strip(), maxsplit=1)
    cmd = parts[0].lower()
    rest = parts[1] if len(parts) > 1 else ""
    flags: list[str] = []
    if rest:
        rest, flags = _extract_flags(rest)
    node = Node(cmd=cmd, original=line.strip(), flags=flags, start_line=lineno, end_line=lineno)
    try:
        _DISPATCH.get(cmd, _parse_string)(node, rest, escape, lineno)
    except ValueError as e:
        raise DockerfileError(str(e), line=lineno, instruction=cmd) from None
    return node


def _extract_flags(line: str) -> tuple[str, list[str]]:
    """Leading `--name[=value]` words (quotes and backslashes processed), and the rest."""
    words: list[str] = []
    pos = 0
    n = len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n:
            return "", words
        if not line.startswith("--", pos):
            return line[pos:], words
        word = ""
        quote = ""
        blank_ok = False
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and pos + 1 < n:
                    pos += 1
                    word += line[pos]
                elif ch != "\\":
                    word += ch
                pos += 1
                continue
            if ch.isspace():
                break
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
            elif ch == "\\":
                if pos + 1 < n:
                    pos += 1
                    word += line[pos]
            else:
                word += ch
            pos += 1
        if word == "--":
            return line[pos:].lstrip(), words
        if blank_ok or word:
            words.append(word)


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on blanks outside quotes; quotes and escapes are kept for word expansion."""
    words: list[str] = []
    word = ""
    in_word = False
    quote = ""
    blank_ok = False
    pos = 0
    n = len(rest)
    while pos < n:
        ch = rest[pos]
        if not quote:
            if ch.isspace():
                if in_word and (blank_ok or word):
                    words.append(word)
                word, in_word, blank_ok = "", False, False
                pos += 1
                continue
            in_word = True
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word += ch
                pos += 1
                ch = rest[pos]
            word += ch
            pos += 1
            continue
        # inside quotes
        if ch == quote:
            quote = ""
        if ch == escape and quote != "'" and quote:
            if pos + 1 == n:
                pos += 1
                continue
            word += ch
            pos += 1
            ch = rest[pos]
        word += ch
        pos += 1
    if in_word and (blank_ok or word):
        words.append(word)
    return words


class _NotStringArray(ValueError):
    pass


def _parse_json(rest: str) -> list[str] | None:
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    try:
        val, end = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return None
    if rest[end:].strip():
        return None
    if not isinstance(val, list):
        return None
    if not all(isinstance(v, str) for v in val):
        raise _NotStringArray("the JSON array must contain only strings")
    return val


def _parse_maybe_json(node: Node, rest: str, escape: str, lineno: int) -> None:
    if not rest:
        return
    val = _parse_json(rest)
    if val is not None:
        node.args, node.json = val, True
    else:
        node.args = [rest]


def _parse_maybe_json_to_list(node: Node, rest: str, escape: str, lineno: int) -> None:
    val = _parse_json(rest)
    if val is not None:
        node.args, node.json = val, True
    else:
        node.args = [w for w in _WS_RE.split(rest.strip()) if w]


def _parse_ws_list(node: Node, rest: str, escape: str, lineno: int) -> None:
    node.args = [w for w in _WS_RE.split(rest.strip()) if w]


def _parse_string(node: Node, rest: str, escape: str, lineno: int) -> None:
    node.args = [rest] if rest else []


def _parse_name_val(node: Node, rest: str, escape: str, lineno: int) -> None:
    """ENV/LABEL: `KEY value...` (legacy) or `K=v K2="v 2"`."""
    words = parse_words(rest, escape)
    if not words:
        return
    if "=" not in words[0]:
        parts = _WS_RE.split(rest.strip(), maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{node.cmd.upper()} must have two arguments (KEY value, or KEY=value): {rest!r}")
        node.args, node.kv_sep = [parts[0], parts[1]], " "
        return
    out = []
    for w in words:
        if "=" not in w:
            raise ValueError(f"syntax error - can't find = in {w!r}. Must be of the form: name=value")
        k, v = w.split("=", 1)
        out += [k, v]
    node.args, node.kv_sep = out, "="


def _parse_name_or_name_val(node: Node, rest: str, escape: str, lineno: int) -> None:
    """ARG name[=default] [name2[=default2] ...]; kept as words, split by `instructions`."""
    node.args = parse_words(rest, escape)


def _parse_sub(node: Node, rest: str, escape: str, lineno: int) -> None:
    if not rest.strip():
        return
    node.sub = _node_from_line(rest, escape, lineno)
    node.args = [rest.strip()]


def _parse_health(node: Node, rest: str, escape: str, lineno: int) -> None:
    rest = rest.strip()
    if not rest:
        return
    m = re.match(r"(\S+)\s*(.*)$", rest, re.S)
    assert m is not None
    typ, cmd = m.group(1), m.group(2)
    node.args = [typ]
    if cmd:
        sub = Node(cmd="cmd", original=cmd)
        _parse_maybe_json(sub, cmd, escape, lineno)
        node.args += sub.args
        node.json = sub.json


_DISPATCH = {
    "add": _parse_maybe_json_to_list,
    "arg": _parse_name_or_name_val,
    "cmd": _parse_maybe_json,
    "copy": _parse_maybe_json_to_list,
    "entrypoint": _parse_maybe_json,
    "env": _parse_name_val,
    "expose": _parse_ws_list,
    "from": _parse_ws_list,
    "healthcheck": _parse_health,
    "label": _parse_name_val,
    "maintainer": _parse_string,
    "onbuild": _parse_sub,
    "run": _parse_maybe_json,
    "shell": _parse_maybe_json,
    "stopsignal": _parse_string,
    "user": _parse_string,
    "volume": _parse_maybe_json_to_list,
    "workdir": _parse_string,
}
