#!/usr/bin/env python3
"""Build the Berth engine wheel from the collection's own copy of the engine source.

Runs on the Ansible controller (standard library only, Python >= 3.11). The wheel is
reproducible: fixed timestamps and modes, sorted entries. So its sha256 changes exactly when the
engine's content changes, and the role reinstalls only then. Prints one JSON line:
{"path", "name", "version", "sha256"}.

Usage: mkwheel.py --source DIR --out DIR
  DIR (source) holds pyproject.toml and the engine/ package (the collection root).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import sys
import tomllib
import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = (".pyc", ".pyo")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _package_roots(source: Path, include: list[str]) -> list[Path]:
    pats = [re.compile("^" + re.escape(p).replace(r"\*", ".*") + "$") for p in include]
    roots = []
    for d in sorted(source.iterdir()):
        if d.is_dir() and (d / "__init__.py").is_file() and any(p.match(d.name) for p in pats):
            roots.append(d)
    return roots


def _files(source: Path, roots: list[Path]) -> list[tuple[str, bytes]]:
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for f in sorted(filenames):
                if f.endswith(SKIP_SUFFIXES) or f.startswith("."):
                    continue
                p = Path(dirpath) / f
                out.append((p.relative_to(source).as_posix(), p.read_bytes()))
    return out


def build(source: Path, out_dir: Path) -> dict[str, str]:
    pyproject = source / "pyproject.toml"
    if not pyproject.is_file():
        raise SystemExit(f"mkwheel: berth_source_dir {str(source)!r} has no pyproject.toml")
    meta = tomllib.loads(pyproject.read_text())
    project = meta["project"]
    name = project["name"]
    version = project["version"]
    include = meta.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {}).get(
        "include", ["engine*"])
    roots = _package_roots(source, include)
    if not roots:
        raise SystemExit(f"mkwheel: no package matching {include} under {str(source)!r}")
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"

    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    metadata = ("\n".join(lines) + "\n").encode()
    wheel_meta = b"Wheel-Version: 1.0\nGenerator: berth-mkwheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    scripts = project.get("scripts", {})
    entry = "".join(["[console_scripts]\n", *(f"{k} = {v}\n" for k, v in sorted(scripts.items()))]).encode()

    entries = _files(source, roots)
    entries += [(f"{info}/METADATA", metadata), (f"{info}/WHEEL", wheel_meta),
                (f"{info}/entry_points.txt", entry),
                (f"{info}/top_level.txt", "".join(f"{r.name}\n" for r in roots).encode())]
    record = io.StringIO()
    for arc, data in entries:
        record.write(f"{arc},{_record_hash(data)},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    entries.append((f"{info}/RECORD", record.getvalue().encode()))

    out_dir.mkdir(parents=True, exist_ok=True)
    fname = f"{dist}-{version}-py3-none-any.whl"
    tmp = out_dir / f".{fname}.{os.getpid()}"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for arc, data in entries:
            zi = zipfile.ZipInfo(arc, date_time=EPOCH)
            zi.external_attr = (0o100644 & 0xFFFF) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    final = out_dir / fname
    os.replace(tmp, final)
    sha = hashlib.sha256(final.read_bytes()).hexdigest()
    return {"path": str(final), "name": fname, "version": version, "sha256": sha}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    a = ap.parse_args(argv)
    print(json.dumps(build(a.source.resolve(), a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
