from __future__ import annotations

import os

import pytest

from engine.context import Context
from engine.errors import Conflict, InvalidArgument, NotFound
from engine.util.fs import atomic_write_json
from engine.volumes import api


@pytest.fixture
def ctx(tmp_path):
    return Context(root=tmp_path / "root", runroot=tmp_path / "run", config_path=tmp_path / "none.toml")


def test_create_inspect_list_remove(ctx):
    rec = api.create(ctx, "data", labels={"a": "b"})
    assert rec["Mountpoint"] == str(ctx.volumes_dir / "data" / "_data") and os.path.isdir(rec["Mountpoint"])
    assert api.create(ctx, "data") == rec  # idempotent
    assert [v["Name"] for v in api.list_all(ctx)] == ["data"]
    assert api.inspect(ctx, "data")["Labels"] == {"a": "b"}
    api.remove(ctx, "data")
    with pytest.raises(NotFound):
        api.inspect(ctx, "data")


@pytest.mark.parametrize("name,opts", [
    ("x", {}), ("../up", {}), ("ok", {"size": "1m"}), ("ok", {"type": "tmpfs"}),
    ("ok", {"o": "bind", "device": "/definitely/missing"}),
])
def test_bad_input_changes_nothing(ctx, name, opts):
    with pytest.raises(InvalidArgument):
        api.create(ctx, name, driver_opts=opts)
    assert api.list_all(ctx) == []


def test_in_use_from_container_records(ctx):
    api.create(ctx, "used")
    atomic_write_json(ctx.containers_dir / ("c" * 64) / "container.json",
                      {"Id": "c" * 64, "Name": "/app", "Mounts": [{"Type": "volume", "Name": "used"}]})
    with pytest.raises(Conflict, match="app"):
        api.remove(ctx, "used")
    assert api.prune(ctx, all=True)[0] == []


def test_anonymous_acquire_release(ctx, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("seed")
    name, path = api.acquire(ctx, None, "c" * 64, src, False)
    assert len(name) == 64 and open(os.path.join(path, "f")).read() == "seed"
    assert api.acquire(ctx, name, "c" * 64, src, False) == (name, path)
    api.release(ctx, name, "c" * 64, remove_anonymous=False)
    assert [v["Name"] for v in api.list_all(ctx)] == [name]
    api.acquire(ctx, name, "c" * 64, None, False)
    api.release(ctx, name, "c" * 64, remove_anonymous=True)
    assert api.list_all(ctx) == []


def test_named_volume_survives_release_and_prune_default_keeps_named(ctx):
    n, _ = api.acquire(ctx, "keep", "d" * 64, None, False)
    api.release(ctx, n, "d" * 64, remove_anonymous=True)
    assert api.prune(ctx)[0] == []
    assert api.prune(ctx, all=True)[0] == ["keep"]
