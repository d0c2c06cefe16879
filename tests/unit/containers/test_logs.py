"""conmon k8s-file log parsing: streams kept apart, partial lines joined, tail/since/until."""

from __future__ import annotations

from engine.containers import logs

LOG = (
    b"2026-01-01T10:00:00.000000001+00:00 stdout F one\n"
    b"2026-01-01T10:00:01.000000000+00:00 stderr F err one\n"
    b"2026-01-01T10:00:02.000000000+00:00 stdout P par\n"
    b"2026-01-01T10:00:02.100000000+00:00 stdout F tial\n"
    b"2026-01-01T10:00:03.000000000Z stdout F last\n"
)


def collect(path, **kw):
    out = []
    logs.read(str(path), out=lambda s, d: out.append((s, d)), **kw)
    return out


def test_streams_and_partials(tmp_path):
    p = tmp_path / "ctr.log"
    p.write_bytes(LOG)
    assert collect(p) == [("stdout", b"one\n"), ("stderr", b"err one\n"), ("stdout", b"partial\n"),
                          ("stdout", b"last\n")]


def test_tail_since_until_timestamps(tmp_path):
    p = tmp_path / "ctr.log"
    p.write_bytes(LOG)
    assert collect(p, tail=1) == [("stdout", b"last\n")]
    assert collect(p, tail=0) == []
    since = logs.parse_ts("2026-01-01T10:00:00.5Z")
    until = logs.parse_ts("2026-01-01T10:00:02.5Z")
    assert [d for _s, d in collect(p, since=since, until=until)] == [b"err one\n", b"partial\n"]
    first = collect(p, tail=1, timestamps=True)[0][1]
    assert first == b"2026-01-01T10:00:03.000000000Z last\n"


def test_since_forms():
    assert logs.parse_since("1700000000", "since") == 1700000000.0
    assert abs(logs.parse_since("2026-01-01T00:00:00Z", "since") - 1767225600.0) < 1
    assert logs.parse_since(None, "since") is None
