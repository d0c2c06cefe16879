"""Looking containers up: full ID, then exact name, then a unique ID prefix (Docker's order)."""

from __future__ import annotations

import pytest

from engine.containers import store
from engine.context import Context
from engine.errors import Conflict, NotFound


@pytest.fixture
def ctx(tmp_path):
    c = Context(tmp_path / "root", tmp_path / "run", tmp_path / "config.toml")
    for cid, name in (("abc1" + "0" * 60, "web"), ("abc2" + "0" * 60, "abc1"), ("ffff" + "0" * 60, "db")):
        store.cdir(c, cid).mkdir(parents=True)
        store.save(c, {"Id": cid, "Name": "/" + name})
    return c


def test_full_id_name_and_unique_prefix(ctx):
    assert store.resolve_id(ctx, "ffff" + "0" * 60).startswith("ffff")
    assert store.resolve_id(ctx, "web").startswith("abc1")
    assert store.resolve_id(ctx, "/db").startswith("ffff")
    assert store.resolve_id(ctx, "ff").startswith("ffff")
    # a name wins over an ID prefix it looks like
    assert store.resolve_id(ctx, "abc1").startswith("abc2")


def test_ambiguous_prefix_and_missing(ctx):
    with pytest.raises(Conflict) as e:
        store.resolve_id(ctx, "abc")
    assert "multiple IDs" in e.value.message
    with pytest.raises(NotFound):
        store.resolve_id(ctx, "nope")
    with pytest.raises(NotFound):
        store.resolve_id(ctx, "0")


def test_restore_starts_the_containers_others_join_first(tmp_path):
    """`restore` order: a container joining another's network, pid or ipc namespace
    (`container:NAME`, by name or ID prefix) comes after it, whatever the directory order."""
    from engine.containers.api import _start_order

    c = Context(tmp_path / "root", tmp_path / "run", tmp_path / "config.toml")
    recs = [("1" * 64, "side", {"PidMode": "container:mid", "IpcMode": "container:db"}),
            ("2" * 64, "mid", {"NetworkMode": "container:" + "9" * 12}),
            ("3" * 64, "loop", {"PidMode": "container:loop"}),
            ("9" * 64, "db", {"NetworkMode": "bridge", "IpcMode": "shareable"})]
    for cid, name, hc in recs:
        store.cdir(c, cid).mkdir(parents=True)
        store.save(c, {"Id": cid, "Name": "/" + name, "HostConfig": hc})
    order = [store.load(c, cid)["Name"] for cid in _start_order(c)]
    assert sorted(order) == ["/db", "/loop", "/mid", "/side"]
    assert order.index("/db") < order.index("/mid") < order.index("/side")
