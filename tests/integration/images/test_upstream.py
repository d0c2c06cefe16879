"""Real upstream images from /work/shared/images (../shared/images from the project root), used
where present: the suite must pass without them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "images"
BUSYBOX_OCI = SHARED / "busybox-1.38.0-musl"
ALPINE = SHARED / "alpine-minirootfs-3.20.3-x86_64.tar.gz"
BUSYBOX_MANIFEST = "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"

pytestmark = pytest.mark.requires("root", "skopeo", "registry")


@pytest.mark.skipif(not BUSYBOX_OCI.is_dir(), reason="upstream busybox OCI layout not present")
def test_official_busybox_through_registry(image_host, open_registry):
    ref = f"{open_registry.host}/library/busybox:1.38.0-musl"
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false",
                    f"oci:{BUSYBOX_OCI}:busybox:1.38.0-musl", f"docker://{ref}"], check=True, capture_output=True)
    image_host.run("pull", "-q", ref)
    info = image_host.json("image", "inspect", ref)[0]
    assert info["RepoDigests"] == [f"{open_registry.host}/library/busybox@{BUSYBOX_MANIFEST}"]
    layer = image_host.root / "layers" / info["RootFS"]["Layers"][0][7:]
    bb = layer / "bin" / "busybox"
    # applets are hardlinks of one inode
    assert (layer / "bin" / "sh").stat().st_ino == bb.stat().st_ino
    assert bb.stat().st_nlink > 100
    # and it round-trips: pushed by Berth elsewhere with the same digest
    again = f"{open_registry.host}/copy/busybox:1.38.0-musl"
    image_host.run("tag", ref, again)
    assert image_host.json("push", "--format", "json", again)["Digest"] == BUSYBOX_MANIFEST


@pytest.mark.skipif(not ALPINE.is_file(), reason="alpine minirootfs not present")
def test_import_alpine_minirootfs(image_host):
    out = image_host.run("import", "-c", 'CMD ["/bin/sh"]', str(ALPINE), "alpine:3.20.3").stdout.strip()
    info = image_host.json("image", "inspect", out)[0]
    layer = image_host.root / "layers" / info["RootFS"]["Layers"][0][7:]
    assert (layer / "etc" / "alpine-release").read_text().startswith("3.20.3")
    assert os.readlink(layer / "bin" / "sh") == "/bin/busybox"
    assert json.loads((image_host.root / "oci" / "index.json").read_text())["manifests"][0]["annotations"][
        "org.opencontainers.image.ref.name"] == "docker.io/library/alpine:3.20.3"
