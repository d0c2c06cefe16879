"""The engine wheel the host role builds on the controller: reproducible (its hash changes only
with the engine's content, which is what makes the role's install idempotent), complete, and
installable by pip."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.integration.role.ansible_runner import REPO

MKWHEEL = REPO / "roles" / "host" / "files" / "mkwheel.py"


def build(src: Path, out: Path) -> dict[str, str]:
    p = subprocess.run([sys.executable, str(MKWHEEL), "--source", str(src), "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def snapshot(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src / "pyproject.toml")
    shutil.copytree(REPO / "engine", src / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_wheel_is_reproducible_and_follows_content(tmp_path: Path) -> None:
    src = snapshot(tmp_path)
    a = build(src, tmp_path / "a")
    b = build(src, tmp_path / "b")
    assert a["sha256"] == b["sha256"]
    assert a["name"] == f"berth-{a['version']}-py3-none-any.whl"
    (src / "engine" / "__pycache__").mkdir(exist_ok=True)
    (src / "engine" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    assert build(src, tmp_path / "c")["sha256"] == a["sha256"]  # bytecode is not content
    with open(src / "engine" / "context.py", "a") as f:
        f.write("\n# edited\n")
    assert build(src, tmp_path / "d")["sha256"] != a["sha256"]


def test_wheel_metadata_record_and_install(tmp_path: Path) -> None:
    src = snapshot(tmp_path)
    w = build(src, tmp_path / "out")
    with zipfile.ZipFile(w["path"]) as z:
        names = z.namelist()
        info = f"berth-{w['version']}.dist-info"
        meta = z.read(f"{info}/METADATA").decode()
        assert "Name: berth" in meta and "Requires-Python: >=3.11" in meta
        assert "Requires-Dist: pydantic" in meta
        assert "berth = engine.cli:main" in z.read(f"{info}/entry_points.txt").decode()
        assert "engine/cli/__init__.py" in names
        assert not any("__pycache__" in n for n in names)
        for line in z.read(f"{info}/RECORD").decode().splitlines():
            name, digest, size = line.rsplit(",", 2)
            if not digest:
                continue
            data = z.read(name)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data), name
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--target", str(target), w["path"]], check=True)
    assert (target / "engine" / "cli" / "__init__.py").is_file()
    assert (target / "bin" / "berth").is_file()


def test_missing_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, str(MKWHEEL), "--source", str(tmp_path), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert f"berth_source_dir {str(tmp_path)!r} has no pyproject.toml" in p.stderr


def test_built_collection_ships_the_engine_the_role_installs(tmp_path: Path) -> None:
    """`ansible-galaxy collection build` output holds the engine source, and the role's default
    source (the collection root, role_path/../..) yields the wheel from an installed copy."""
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--output-path", str(tmp_path / "dist"), str(REPO)],
                   check=True, capture_output=True)
    tarball = next((tmp_path / "dist").glob("berth-engine-*.tar.gz"))
    subprocess.run([str(galaxy), "collection", "install", "--offline", "-p", str(tmp_path / "coll"), str(tarball)],
                   check=True, capture_output=True)
    root = tmp_path / "coll" / "ansible_collections" / "berth" / "engine"
    role_path = root / "roles" / "host"
    assert (role_path / "files" / "mkwheel.py").is_file()
    w = build(role_path / ".." / "..", tmp_path / "out")
    with zipfile.ZipFile(w["path"]) as z:
        assert "engine/cli/__init__.py" in z.namelist()
