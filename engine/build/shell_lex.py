"""Word expansion for Dockerfile instructions, with Docker's rules (buildkit `shell/lex.go`).

This is not a shell: it only does what the Dockerfile reference documents for ADD, COPY, ENV,
EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG and ONBUILD triggers:

    $V  ${V}  ${V:-word} ${V-word}  ${V:+word} ${V+word}  ${V:?msg} ${V?msg}
    ${V#pat} ${V##pat} ${V%pat} ${V%%pat}     (shell glob patterns)
    'single quotes' (literal), "double quotes" (expansion inside), the escape character
    (backslash, or backtick after `# escape=`` `), an escape at the very end is dropped.

`process_word` returns one string (quotes removed, no field splitting); `process_words`
splits on unquoted blanks, like a shell would, for the few callers that want fields.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

_SPECIAL_PARAMS = set("@*#?-$!0")


class ShellSyntaxError(ValueError):
    """A malformed word: unterminated quote, bad substitution, `${V:?}` on an unset V."""


class _Words:
    """Field splitting that remembers whether the current field has seen a quote."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.cur = ""
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch.isspace() and ch != "\u00a0":
            if self.in_word:
                self.words.append(self.cur)
                self.cur = ""
                self.in_word = False
            return
        self.cur += ch
        self.in_word = True

    def add_raw(self, s: str) -> None:
        self.cur += s
        self.in_word = True

    def add_expanded(self, s: str) -> None:
        for ch in s:
            self.add_char(ch)

    def result(self) -> list[str]:
        if self.in_word:
            return [*self.words, self.cur]
        return list(self.words)


class Lexer:
    def __init__(self, escape: str = "\\", raw_quotes: bool = False, raw_escapes: bool = False,
                 skip_unset: bool = False) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset = skip_unset

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        return _Run(self, word, env).process(None)[0]

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        return _Run(self, word, env).process(None)[1]


class _Run:
    def __init__(self, lex: Lexer, s: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.s = s
        self.pos = 0
        self.env = env

    # -- scanner
    def peek(self) -> str:
        return self.s[self.pos] if self.pos < len(self.s) else ""

    def next(self) -> str:
        if self.pos >= len(self.s):
            return ""
        ch = self.s[self.pos]
        self.pos += 1
        return ch

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            return self.env[name], True
        return "", False

    # -- grammar
    def process(self, stop: str | None) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        esc = self.lex.escape
        while self.peek():
            ch = self.peek()
            if stop is not None and ch == stop:
                self.next()
                return "".join(out), words.result()
            if ch == "'":
                tmp = self.single_quote()
                out.append(tmp)
                words.add_raw(tmp)
            elif ch == '"':
                tmp = self.double_quote()
                out.append(tmp)
                words.add_raw(tmp)
            elif ch == "$":
                tmp = self.dollar()
                out.append(tmp)
                words.add_expanded(tmp)
            else:
                ch = self.next()
                if ch == esc:
                    if self.lex.raw_escapes:
                        out.append(ch)
                        words.add_raw(ch)
                    ch = self.next()
                    if not ch:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                out.append(ch)
        if stop is not None:
            raise ShellSyntaxError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.result()

    def single_quote(self) -> str:
        # All chars between single quotes are taken as-is; the escape char has no meaning.
        q = self.next()
        out = [q] if self.lex.raw_quotes else []
        while True:
            ch = self.next()
            if not ch:
                raise ShellSyntaxError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        # `$` expands; the escape char escapes only `"`, `$` and itself, else it stays.
        q = self.next()
        out = [q] if self.lex.raw_quotes else []
        esc = self.lex.escape
        while True:
            ch = self.peek()
            if not ch:
                raise ShellSyntaxError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == esc:
                nxt = self.peek()
                if not nxt:
                    continue  # an escape at the end of the word is dropped
                if nxt in ('"', "$", esc):
                    if self.lex.raw_escapes:
                        out.append(ch)
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        out = ""
        while self.peek():
            ch = self.peek()
            if not out and ch.isdigit():
                while self.peek() and self.peek().isdigit():
                    out += self.next()
                return out
            if not out and ch in _SPECIAL_PARAMS:
                return self.next()
            if not (ch.isalnum() or ch == "_"):
                break
            out += self.next()
        return out

    def dollar(self) -> str:
        self.next()  # the $
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset:
                return "$" + name
            return value
        self.next()  # the {
        ch = self.peek()
        if not ch:
            raise ShellSyntaxError("syntax error: missing '}'")
        if ch in "{}:":
            raise ShellSyntaxError("syntax error: bad substitution")
        name = self.name()
        if not name:
            raise ShellSyntaxError("syntax error: bad substitution")
        ch = self.next()
        if ch == "}":
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset:
                return "${" + name + "}"
            return value
        if ch == ":":
            mod = self.next()
            word = self.until_brace()
            value, found = self.get_env(name)
            if self.lex.skip_unset and not found:
                return "${" + name + ":" + mod + word + "}"
            if mod == "+":
                return word if value else ""
            if mod == "-":
                return value if value else word
            if mod == "?":
                if not found:
                    raise ShellSyntaxError(f"{name}: {word or 'is not allowed to be unset'}")
                if not value:
                    raise ShellSyntaxError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            raise ShellSyntaxError(f"unsupported modifier ({mod}) in substitution")
        if ch in ("+", "-", "?"):
            word = self.until_brace()
            value, found = self.get_env(name)
            if self.lex.skip_unset and not found:
                return "${" + name + ch + word + "}"
            if ch == "+":
                return word if found else ""
            if ch == "-":
                return value if found else word
            if not found:
                raise ShellSyntaxError(f"{name}: {word or 'is not allowed to be unset'}")
            return value
        if ch in ("#", "%"):
            greedy = self.peek() == ch
            if greedy:
                self.next()
            pattern = self.until_brace()
            value, _found = self.get_env(name)
            return _trim(value, pattern, prefix=ch == "#", greedy=greedy)
        if not ch:
            raise ShellSyntaxError("syntax error: missing '}'")
        raise ShellSyntaxError(f"unsupported modifier ({ch}) in substitution")

    def until_brace(self) -> str:
        try:
            word, _ = self.process("}")
        except ShellSyntaxError:
            if not self.peek():
                raise ShellSyntaxError("syntax error: missing '}'") from None
            raise
        return word


def _trim(value: str, pattern: str, *, prefix: bool, greedy: bool) -> str:
    rx = re.compile(fnmatch.translate(pattern), re.DOTALL)
    n = len(value)
    if prefix:
        cuts = range(n, -1, -1) if greedy else range(0, n + 1)
        for i in cuts:
            if rx.match(value[:i]):
                return value[i:]
    else:
        cuts = range(0, n + 1) if greedy else range(n, -1, -1)
        for i in cuts:
            if rx.match(value[i:]):
                return value[:i]
    return value
