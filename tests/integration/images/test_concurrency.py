"""Concurrent pulls on one root; an interrupted pull leaves no half image."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.requires("root", "busybox", "registry")


def test_concurrent_pulls_one_root(berth_host, busybox_rootfs, open_registry, tmp_path):
    from tests.fixtures.host import BerthHost

    # three images in the registry: two share the busybox layer, one has its own
    src = BerthHost(tmp_path / "src")
    try:
        extra = tmp_path / "extra.tar"
        import io
        import tarfile

        with tarfile.open(extra, "w") as tf:
            data = os.urandom(300_000)
            ti = tarfile.TarInfo("blob.bin")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        refs = [f"{open_registry.host}/conc/a:1", f"{open_registry.host}/conc/b:1", f"{open_registry.host}/conc/c:1"]
        src.run("import", "-c", "LABEL n=a", str(busybox_rootfs), refs[0])
        src.run("import", "-c", "LABEL n=b", str(busybox_rootfs), refs[1])
        src.run("import", str(extra), refs[2])
        for r in refs:
            src.run("push", "-q", r)
    finally:
        src.teardown()
    procs = [subprocess.Popen([*berth_host.argv, "pull", "-q", r], env=berth_host.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for r in [refs[0], refs[0], refs[1], refs[2], refs[1]]]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    rows = [json.loads(line) for line in berth_host.run("images", "--format", "json").stdout.splitlines()]
    assert sorted(f"{r['Repository']}:{r['Tag']}" for r in rows) == sorted(refs)
    idx = json.loads((berth_host.root / "oci" / "index.json").read_text())
    assert sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in idx["manifests"]) == sorted(refs)
    layer_dirs = sorted(os.listdir(berth_host.root / "layers"))
    assert len(layer_dirs) == 2
    assert os.listdir(berth_host.root / "tmp" / "images") == []


def test_interrupted_pull_leaves_no_image(image_host, hostile_registry):
    ref = f"{hostile_registry.host}/slow/img:latest"
    p = subprocess.Popen([*image_host.argv, "pull", ref], env=image_host.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert p.poll() is None, p.communicate()
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert image_host.run("images", "-q").stdout.strip() == ""
    assert list((image_host.root / "layers").iterdir()) == []
    assert image_host.run("image", "inspect", ref, check=False).returncode == 3
    # the next pull completes it and clears what the killed one left
    image_host.run("pull", "-q", ref)
    assert image_host.json("image", "inspect", ref)[0]["RepoTags"] == [ref]
    assert os.listdir(image_host.root / "tmp" / "images") == []


def test_interrupted_multilayer_pull_content_reused_or_pruned(image_host, hostile_registry):
    """Killed after its first of four layers: no image, and the finished layer is either
    reused by the next pull or, once old, deleted by `image prune` (never while young: it may
    belong to a pull in progress)."""
    ref = f"{hostile_registry.host}/parallel/img:latest"
    image_host.write_config("max_concurrent_downloads = 1\n")
    hostile_registry.parallel_want = 2  # alone, each layer is held back 3 s
    layers = image_host.root / "layers"
    p = subprocess.Popen([*image_host.argv, "pull", "-q", ref], env=image_host.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not (layers.is_dir() and any(layers.iterdir())):
            assert p.poll() is None, p.communicate()
            time.sleep(0.05)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    orphans = sorted(os.listdir(layers))
    assert len(orphans) == 1
    assert image_host.run("images", "-q").stdout.strip() == ""
    blobs = image_host.root / "oci" / "blobs" / "sha256"
    assert len(os.listdir(blobs)) == 1  # the finished layer's blob (manifest and config come last)
    image_host.run("image", "prune", "-f")
    assert sorted(os.listdir(layers)) == orphans  # young: kept
    old = time.time() - 3600
    for f in [*blobs.iterdir(), image_host.root / "images" / "layers" / (orphans[0] + ".json")]:
        os.utime(f, (old, old))
    out = image_host.run("image", "prune", "-f").stdout
    assert "Total reclaimed space: 50kB" in out  # the orphan layer
    assert os.listdir(layers) == [] and os.listdir(blobs) == []
    image_host.write_config("max_concurrent_downloads = 4\n")
    hostile_registry.parallel_want = 4
    try:
        image_host.run("pull", "-q", ref)
    finally:
        hostile_registry.parallel_want = 2
    assert len(image_host.json("image", "inspect", ref)[0]["RootFS"]["Layers"]) == 4
