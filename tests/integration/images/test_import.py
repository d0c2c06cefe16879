"""`berth import`, `images`, `image inspect` on a real store; the OCI layout is readable by skopeo."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

pytestmark = pytest.mark.requires("root", "busybox")


def test_import_busybox(berth_host, busybox_image):
    out = berth_host.json("image", "inspect", busybox_image)
    assert len(out) == 1
    info = out[0]
    assert info["RepoTags"] == ["berth-test/busybox:latest"]
    assert info["Config"]["Cmd"] == ["sh"]
    assert info["Os"] == "linux"
    assert info["Id"].startswith("sha256:")
    assert len(info["RootFS"]["Layers"]) == 1
    assert {"Id", "RepoTags", "RepoDigests", "Created", "Config", "RootFS", "Architecture", "Os", "Size"} <= set(info)
    assert info["RootFS"]["Type"] == "layers" and info["Architecture"] and info["Size"] > 1_000_000
    assert info["Created"][:4].isdigit() and info["Created"][10] == "T" and info["Created"].endswith("Z")
    import hashlib

    config = (berth_host.root / "oci" / "blobs" / "sha256" / info["Id"][7:]).read_bytes()
    assert "sha256:" + hashlib.sha256(config).hexdigest() == info["Id"]  # image ID = config digest
    layer = berth_host.root / "layers" / info["RootFS"]["Layers"][0].split(":")[1]
    assert (layer / "bin" / "busybox").is_file()
    assert os.readlink(layer / "bin" / "sh") == "busybox"
    assert stat.S_IMODE(os.stat(layer / "tmp").st_mode) == 0o1777
    st = os.stat(layer / "home" / "app")
    assert (st.st_uid, st.st_gid) == (1000, 1000)
    assert "app:x:1000:1000" in (layer / "etc" / "passwd").read_text()
    # docker inspect shape via the generic inspect verb too
    same = berth_host.json("inspect", "image", "berth-test/busybox")
    assert same[0]["Id"] == info["Id"]
    # short id prefix resolves
    assert berth_host.json("image", "inspect", info["Id"][7:19])[0]["Id"] == info["Id"]


def test_images_table_and_json(berth_host, busybox_image):
    p = berth_host.run("images")
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines[1].split()[:2] == ["berth-test/busybox", "latest"]
    q = berth_host.run("images", "-q").stdout.split()
    assert len(q) == 1 and len(q[0]) == 12
    rows = [json.loads(line) for line in berth_host.run("images", "--format", "json").stdout.splitlines()]
    assert [(r["Repository"], r["Tag"]) for r in rows] == [("berth-test/busybox", "latest")]


def test_import_from_stdin_with_changes(image_host, busybox_rootfs):
    berth_host = image_host
    data = busybox_rootfs.read_bytes()
    p = berth_host.run("import", "-c", "ENV FOO=bar", "-c", "ENTRYPOINT /bin/sh", "-c", "WORKDIR /tmp",
                       "-", "example.com/x/y:1", input=data)
    img_id = p.stdout.decode().strip()
    assert img_id.startswith("sha256:")
    cfg = berth_host.json("image", "inspect", "example.com/x/y:1")[0]["Config"]
    assert cfg["Env"] == ["FOO=bar"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/sh"]
    assert cfg["WorkingDir"] == "/tmp"


def test_import_bad_reference_changes_nothing(image_host, busybox_rootfs):
    berth_host = image_host
    p = berth_host.run("import", str(busybox_rootfs), "Bad:Ref!", check=False)
    assert p.returncode == 2
    assert "Bad:Ref!" in p.stderr
    assert berth_host.run("images", "-q").stdout.strip() == ""


@pytest.mark.requires("skopeo")
def test_skopeo_reads_store(berth_host, busybox_image):
    p = subprocess.run(["skopeo", "inspect", f"oci:{berth_host.root}/oci:docker.io/berth-test/busybox:latest"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    ours = berth_host.json("image", "inspect", busybox_image)[0]
    assert info["Layers"] and len(info["Layers"]) == 1
    assert info["Os"] == "linux"
    cfg = subprocess.run(["skopeo", "inspect", "--config",
                          f"oci:{berth_host.root}/oci:docker.io/berth-test/busybox:latest"],
                         capture_output=True, text=True, check=True)
    assert json.loads(cfg.stdout)["rootfs"]["diff_ids"] == ours["RootFS"]["Layers"]
