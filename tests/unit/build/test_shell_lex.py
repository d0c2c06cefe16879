from __future__ import annotations

import pytest

from engine.build.shell_lex import Lexer, ShellSyntaxError

ENV = {"A": "a", "E": "", "P": "/usr/local/bin", "SP": "x y"}


@pytest.mark.parametrize(("word", "want"), [
    ("plain", "plain"),
    ("$A", "a"),
    ("${A}b", "ab"),
    ("$Ab", ""),  # the name is Ab, unset
    ("$UNSET", ""),
    ("${UNSET:-def}", "def"),
    ("${E:-def}", "def"),
    ("${E-def}", ""),
    ("${UNSET-def}", "def"),
    ("${A:+alt}", "alt"),
    ("${E:+alt}", ""),
    ("${E+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${A:?msg}", "a"),
    ("${UNSET:-$A}", "a"),
    ("${UNSET:-${A}x}", "ax"),
    ('"$A and ${SP}"', "a and x y"),
    ("'$A'", "$A"),
    ("\\$A", "$A"),
    ('"\\$A"', "$A"),
    ('"a\\b"', "a\\b"),
    ('"\\""', '"'),
    ("a\\ b", "a b"),
    ("trailing\\", "trailing"),
    ("$", "$"),
    ("a$", "a$"),
    ("$1x", "x"),
    ("${P#*/}", "usr/local/bin"),
    ("${P##*/}", "bin"),
    ("${P%/*}", "/usr/local"),
    ("${P%%/l*}", "/usr"),
    ("mixed'q'\"d\"", "mixedqd"),
])
def test_process_word(word: str, want: str) -> None:
    assert Lexer().process_word(word, ENV) == want


def test_backtick_escape() -> None:
    assert Lexer("`").process_word("a`$A\\b", ENV) == "a$A\\b"


@pytest.mark.parametrize(("word", "msg"), [
    ("'open", "single-quote"),
    ('"open', "double-quote"),
    ("${A", "missing '}'"),
    ("${}", "bad substitution"),
    ("${:x}", "bad substitution"),
    ("${UNSET:?must be set}", "UNSET: must be set"),
    ("${UNSET?}", "UNSET: is not allowed to be unset"),
    ("${E:?}", "E: is not allowed to be empty"),
    ("${A:x}", "unsupported modifier (x)"),
])
def test_errors(word: str, msg: str) -> None:
    with pytest.raises(ShellSyntaxError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        Lexer().process_word(word, ENV)


def test_process_words_splits_only_unquoted_blanks() -> None:
    assert Lexer().process_words('a "b c" $SP \'d e\'', ENV) == ["a", "b c", "x", "y", "d e"]
