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


def test_push_requests_seen_by_the_proxy(berth_host, busybox_image, hostile_proxy):
    """What push sends, observed on the wire: HEAD before each upload; a monolithic upload is
    one PUT; a chunked one is PATCHes of the chunk size then a PUT; a blob the registry has in
    another repository is mounted, not sent again."""
    import math

    info = berth_host.json("image", "inspect", busybox_image)[0]
    desc = info["Descriptor"]
    man = __import__("json").loads((berth_host.root / "oci" / "blobs" / "sha256" / desc["digest"][7:]).read_text())
    layer = man["layers"][0]

    def pushed(repo: str, *opts: str) -> list[tuple[str, str]]:
        ref = f"{hostile_proxy.host}/{repo}:1"
        berth_host.run("tag", busybox_image, ref)
        n = len(hostile_proxy.requests)
        berth_host.run("push", "-q", *opts, ref)
        return [(m, p.split("?")[0]) for m, p in hostile_proxy.requests[n:] if m != "GET"]

    import shutil

    chunk = 256 * 1024
    chunked = pushed("wire/chunked", "--chunk-size", str(chunk))
    assert chunked[0] == ("HEAD", f"/v2/wire/chunked/blobs/{layer['digest']}")
    methods = [m for m, _ in chunked]
    assert layer["size"] > chunk and methods.count("PATCH") == math.ceil(layer["size"] / chunk), chunked
    assert methods.count("PUT") == 3  # the layer's closing PUT, the config, the manifest

    shutil.rmtree(berth_host.root / "images" / "sources")  # forget where the layer is: upload it again
    mono = pushed("wire/mono")
    assert mono[0] == ("HEAD", f"/v2/wire/mono/blobs/{layer['digest']}")
    methods = [m for m, _ in mono]
    assert methods.count("PATCH") == 0 and methods.count("PUT") == 3
    assert mono[-1] == ("PUT", "/v2/wire/mono/manifests/1")

    # the same layer to a third repository: HEAD says missing, then a cross-repository mount
    n = len(hostile_proxy.requests)
    mounted = pushed("wire/mounted")
    posts = [p for m, p in hostile_proxy.requests[n:] if m == "POST"]
    assert any(f"mount={layer['digest']}".replace(":", "%3A") in p and "from=wire%2Fmono" in p for p in posts), posts
    assert [m for m, _ in mounted].count("PATCH") == 0
    assert [m for m, _ in mounted].count("PUT") == 2  # only the config and the manifest are sent
