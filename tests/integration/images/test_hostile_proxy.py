"""Faults injected by a proxy in front of the real docker-registry: the image itself is good
(pushed by Berth, stored by the registry), only what reaches the client is altered. Each pull
is refused with a clear error and the store is left as it was."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from tests.integration.images.test_hostile import leftover_tmp, snapshot

pytestmark = pytest.mark.requires("root", "registry")

MODES = ("ok", "bad-digest", "wrong-type", "truncated")


@pytest.fixture(scope="module")
def proxied_images(open_registry, hostile_proxy, tmp_path_factory):
    """One small image per mode in the real registry, each with its own layer (so no layer of
    a hostile one is already in the store when it is pulled)."""
    from tests.fixtures.host import BerthHost

    base = tmp_path_factory.mktemp("proxysrc")
    src = BerthHost(base / "src")
    for mode in MODES:
        tar = base / f"{mode}.tar"
        with tarfile.open(tar, "w") as tf:
            for name, data in ((f"etc/{mode}", f"served as {mode}\n".encode()), ("data.bin", os.urandom(300_000))):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
        ref = f"{open_registry.host}/{mode}/img:1"
        src.run("import", str(tar), ref)
        src.run("push", "-q", ref)
    return {m: f"{hostile_proxy.host}/{m}/img:1" for m in MODES}


def test_proxy_passes_a_good_image_through(image_host, proxied_images):
    ref = proxied_images["ok"]
    image_host.run("pull", "-q", ref)
    info = image_host.json("image", "inspect", ref)[0]
    layer = image_host.root / "layers" / info["RootFS"]["Layers"][0][7:]
    assert (layer / "etc" / "ok").read_text() == "served as ok\n"


@pytest.mark.parametrize("mode,needle", [
    ("bad-digest", "does not match its digest"),
    ("wrong-type", "Content-Type"),
    ("truncated", "truncated"),
])
def test_proxy_faults_refused_store_unchanged(image_host, proxied_images, hostile_proxy, mode, needle):
    image_host.run("pull", "-q", proxied_images["ok"])
    before = snapshot(image_host.root)
    n = len(hostile_proxy.requests)
    p = image_host.run("pull", proxied_images[mode], check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert needle in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert f"/v2/{mode}/img/" in " ".join(path for _m, path in hostile_proxy.requests[n:])
    after = snapshot(image_host.root)
    assert after == before, sorted(after ^ before)
    assert leftover_tmp(image_host.root) == []
    assert image_host.run("image", "inspect", proxied_images[mode], check=False).returncode == 3
