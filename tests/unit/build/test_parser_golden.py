"""Golden-file tests for the Dockerfile parser and instruction validation.

Each directory under testdata/ holds a `Dockerfile` and either `expected.json` (the AST, as
`parser.Result.to_json()`, plus a summary of the typed instructions) or `error.txt` (the exact
error, which names the line and the instruction). Regenerate with UPDATE_GOLDEN=1 and review
the diff."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from engine.build import instructions, parser

DATA = Path(__file__).parent / "testdata"
CASES = sorted(p.name for p in DATA.iterdir() if (p / "Dockerfile").exists())


def _summary(df: instructions.Dockerfile) -> list:
    def one(obj: object) -> dict:
        d = {}
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            if f.name in ("original", "commands"):
                continue
            v = getattr(obj, f.name)
            if f.name == "heredocs":
                v = [h.name for h in v]
            d[f.name] = v
        d["type"] = type(obj).__name__
        return d

    out = [one(a) for a in df.meta_args]
    for st in df.stages:
        out.append(one(st))
        out += [one(c) for c in st.commands]
    return out


def _run(case: str) -> tuple[str, str]:
    text = (DATA / case / "Dockerfile").read_bytes().decode()
    try:
        ast = parser.parse(text)
        df = instructions.from_ast(ast)
        instructions.check(df)
    except parser.DockerfileError as e:
        return "error.txt", e.message + "\n"
    doc = {"ast": ast.to_json(), "instructions": _summary(df)}
    return "expected.json", json.dumps(doc, indent=1, ensure_ascii=False, default=list) + "\n"


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    kind, got = _run(case)
    if os.environ.get("UPDATE_GOLDEN"):
        for k in ("error.txt", "expected.json"):
            (DATA / case / k).unlink(missing_ok=True)
        (DATA / case / kind).write_text(got)
    want_file = DATA / case / kind
    assert want_file.exists(), f"{case}: produced {kind} but the golden file has the other kind"
    assert got == want_file.read_text()


def test_error_cases_fail_and_valid_cases_do_not() -> None:
    for case in CASES:
        kind, _ = _run(case)
        assert (kind == "error.txt") == case.startswith("err-"), case
