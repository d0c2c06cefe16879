from __future__ import annotations

import io

from engine.images.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_tty_redraws_per_layer_lines():
    out = FakeTTY()
    p = Progress(out=out)
    p.update("aaa", "Pulling fs layer")
    p.update("bbb", "Pulling fs layer")
    p.update("aaa", "Downloading", 500, 1000)
    p.update("aaa", "Pull complete")
    text = out.getvalue()
    assert "\x1b[2A" in text  # moved up over the two layer lines to redraw them
    assert "aaa: Pull complete" in text and "bbb: Pulling fs layer" in text


def test_not_a_tty_prints_status_lines_only():
    out = io.StringIO()
    p = Progress(out=out)
    p.update("aaa", "Pulling fs layer")
    p.update("aaa", "Downloading", 5, 10)
    p.update("aaa", "Pull complete")
    p.line("Digest: sha256:x")
    assert out.getvalue() == "aaa: Pulling fs layer\naaa: Pull complete\nDigest: sha256:x\n"
    assert "\x1b" not in out.getvalue()


def test_quiet_prints_nothing():
    out = FakeTTY()
    p = Progress(quiet=True, out=out)
    p.update("aaa", "Pulling fs layer")
    p.line("Digest: x")
    assert out.getvalue() == ""
