"""Hostile registry responses and layers: refused with a clear error, store unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.requires("root")


def snapshot(root: Path) -> set[str]:
    out = set()
    for sub in ("oci", "layers", "images"):
        base = root / sub
        for dirpath, dirnames, filenames in os.walk(base):
            for n in dirnames + filenames:
                out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def leftover_tmp(root: Path) -> list[str]:
    t = root / "tmp" / "images"
    return sorted(os.listdir(t)) if t.exists() else []


def test_good_image_pulls(image_host, hostile_registry):
    ref = f"{hostile_registry.host}/ok/img:latest"
    image_host.run("pull", "-q", ref)
    info = image_host.json("image", "inspect", ref)[0]
    layer = image_host.root / "layers" / info["RootFS"]["Layers"][0].split(":")[1]
    assert (layer / "etc" / "hello").read_text() == "hello from the hostile registry\n"


@pytest.mark.parametrize("mode,needle", [
    ("bad-digest", "does not match its digest"),
    ("wrong-type", "Content-Type"),
    ("artifact", "unsupported manifest media type"),
    ("truncated", "truncated"),
    ("schema1", "schema 1 is not supported"),
    ("evil-layer", "'../escaped'"),
    ("evil-symlink", "'escape/tmp/berth-evil-symlink' would be written through the symlink 'escape'"),
    ("evil-hardlink", "'passwd' is a hardlink to '/etc/passwd' outside the layer"),
    ("bad-diffid", "diff ID"),
    ("tampered", "does not match the registry's digest"),
])
def test_hostile_refused_store_unchanged(image_host, hostile_registry, mode, needle):
    image_host.run("pull", "-q", f"{hostile_registry.host}/ok/img:latest")  # something already stored
    before = snapshot(image_host.root)
    p = image_host.run("pull", f"{hostile_registry.host}/{mode}/img:latest", check=False)
    assert p.returncode != 0
    assert needle in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    after = snapshot(image_host.root)
    assert after == before, sorted(after ^ before)
    assert leftover_tmp(image_host.root) == []
    assert not (image_host.base / "escaped").exists() and not (image_host.root / "escaped").exists()
    assert not Path("/tmp/berth-evil-symlink").exists()


def test_flaky_blob_resumes_with_range(image_host, hostile_registry):
    n = hostile_registry.range_requests
    image_host.run("pull", "-q", f"{hostile_registry.host}/flaky/img:latest")
    assert hostile_registry.range_requests > n
    info = image_host.json("image", "inspect", f"{hostile_registry.host}/flaky/img:latest")[0]
    assert info["Id"]


def test_index_platform_selection(image_host, hostile_registry):
    from engine.images.store import host_platform

    ref = f"{hostile_registry.host}/multi/img:latest"
    host_arch = host_platform()["architecture"]
    if host_arch in ("amd64", "arm64"):
        image_host.run("pull", "-q", ref)
        assert image_host.json("image", "inspect", ref)[0]["Architecture"] == host_arch
    image_host.run("pull", "-q", "--platform", "linux/arm64", ref)
    info = image_host.json("image", "inspect", ref)[0]
    assert (info["Architecture"], info["Variant"]) == ("arm64", "v8")
    layer = image_host.root / "layers" / info["RootFS"]["Layers"][0][7:]
    assert (layer / "arch").read_text() == "arm64\n"
    # the repo digest is the index's
    assert info["RepoDigests"][0].endswith(
        "@sha256:" + __import__("hashlib").sha256(hostile_registry.multi_index).hexdigest())
    p = image_host.run("pull", "--platform", "linux/s390x", ref, check=False)
    assert p.returncode == 1
    assert "no matching manifest for linux/s390x" in p.stderr and "linux/arm64/v8" in p.stderr


def test_tampered_manifest_by_digest(image_host, hostile_registry):
    import hashlib

    good = hostile_registry.per_mode["tampered"]["manifest"]
    ref = f"{hostile_registry.host}/tampered/img@sha256:{hashlib.sha256(good).hexdigest()}"
    p = image_host.run("pull", ref, check=False)
    assert p.returncode == 1 and "does not match its digest" in p.stderr
    assert image_host.run("images", "-q").stdout.strip() == ""


def test_layers_fetched_in_parallel_bounded(image_host, hostile_registry):
    """Four layers, max_concurrent_downloads = 2: two downloads at once, never three. The
    registry holds each layer back until a second one is in flight (or 3 s passed)."""
    image_host.write_config("max_concurrent_downloads = 2\n")
    hostile_registry.peak_parallel = 0
    ref = f"{hostile_registry.host}/parallel/img:latest"
    image_host.run("pull", "-q", ref)
    assert hostile_registry.peak_parallel == 2
    info = image_host.json("image", "inspect", ref)[0]
    assert len(info["RootFS"]["Layers"]) == 4
    for i, d in enumerate(info["RootFS"]["Layers"]):
        assert (image_host.root / "layers" / d[7:] / f"layer{i}").stat().st_size == 50_000
    # one at a time when so configured
    image_host.run("rmi", ref)
    image_host.write_config("max_concurrent_downloads = 1\n")
    hostile_registry.peak_parallel, hostile_registry.parallel_want = 0, 1
    try:
        image_host.run("pull", "-q", ref)
    finally:
        hostile_registry.parallel_want = 2
    assert hostile_registry.peak_parallel == 1


def test_progress_per_layer_on_a_terminal(image_host, hostile_registry):
    """On a terminal: one line per layer, redrawn in place (cursor-up escapes), with a progress
    bar while downloading. Not on a terminal: plain status lines, no escapes."""
    ref = f"{hostile_registry.host}/parallel/img:latest"
    hostile_registry.parallel_want = 1  # no holding back here
    try:
        _progress_checks(image_host, hostile_registry, ref)
    finally:
        hostile_registry.parallel_want = 2


def _progress_checks(image_host, hostile_registry, ref):  # type: ignore[no-untyped-def]
    import os
    import pty
    import re
    import subprocess

    master, slave = pty.openpty()
    p = subprocess.Popen([*image_host.argv, "pull", ref], stdout=slave, stderr=subprocess.PIPE,
                         env=image_host.env)
    os.close(slave)
    out = b""
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not b:
            break
        out += b
    os.close(master)
    assert p.wait(60) == 0, p.stderr.read()
    text = out.decode()
    layers = [d["digest"][7:19] for d in hostile_registry.parallel["layers"]]
    assert "\x1b[2K" in text and re.search(r"\x1b\[\d+A", text)
    assert re.search(r": Downloading \[=*>? *\] ", text)
    for short in layers:
        assert f"{short}: Pull complete" in text
    assert text.rstrip().splitlines()[-1].strip() == ref
    image_host.run("rmi", ref)
    plain = image_host.run("pull", ref).stdout
    assert "\x1b" not in plain and "Downloading" not in plain
    assert all(f"{short}: Pull complete" in plain for short in layers)
