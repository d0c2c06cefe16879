"""Generate engine/schemas/<kind>.json from the pydantic models (shipped as package data).

    python -m engine.apply.schema          # rewrite engine/schemas/
A unit test fails when the shipped files drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def render(name: str) -> str:
    from engine.apply.models import json_schema

    return json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n"


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    from engine.apply.models import SPECS

    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SPECS:
        p = directory / f"{name}.json"
        p.write_text(render(name))
        out.append(p)
    return out


if __name__ == "__main__":
    for p in write_all():
        print(p)
