"""tag, rmi, images filters, history, save/load (docker-save and OCI archives), prune, info,
version."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile

import pytest

pytestmark = pytest.mark.requires("root", "busybox")


def ids(host) -> list[str]:
    return host.run("images", "-q", "--no-trunc").stdout.split()


def test_tag_rmi_rules(berth_host, busybox_image):
    berth_host.run("tag", busybox_image, "other/name:v2")
    info = berth_host.json("image", "inspect", "other/name:v2")[0]
    assert sorted(info["RepoTags"]) == ["berth-test/busybox:latest", "other/name:v2"]
    # by ID with two tags: refused without -f
    p = berth_host.run("rmi", info["Id"][7:19], check=False)
    assert p.returncode == 1 and "must be forced" in p.stderr
    # by name: just untags
    assert berth_host.run("rmi", "other/name:v2").stdout.strip() == "Untagged: other/name:v2"
    assert berth_host.json("image", "inspect", busybox_image)[0]["RepoTags"] == ["berth-test/busybox:latest"]
    layer = berth_host.root / "layers" / info["RootFS"]["Layers"][0][7:]
    assert layer.is_dir()
    out = berth_host.run("rmi", busybox_image).stdout.splitlines()
    assert out == ["Untagged: berth-test/busybox:latest", f"Deleted: {info['Id']}"]
    assert not layer.exists()
    assert list((berth_host.root / "oci" / "blobs" / "sha256").iterdir()) == []
    assert json.loads((berth_host.root / "oci" / "index.json").read_text())["manifests"] == []
    p = berth_host.run("rmi", "nope:1", check=False)
    assert p.returncode == 3 and "No such image: nope:1" in p.stderr
    p = berth_host.run("tag", "nope", "x", check=False)
    assert p.returncode == 3
    p = berth_host.run("tag", "sha256:" + "0" * 64, "x", check=False)
    assert p.returncode == 3


def test_retag_moves_tag_and_dangling_filter(berth_host, busybox_rootfs):
    a = berth_host.run("import", "-c", "LABEL v=1", str(busybox_rootfs), "app:1").stdout.strip()
    b = berth_host.run("import", "-c", "LABEL v=2", str(busybox_rootfs), "app:1").stdout.strip()
    assert a != b
    assert berth_host.json("image", "inspect", a)[0]["RepoTags"] == []
    dangling = berth_host.run("images", "-q", "--no-trunc", "-f", "dangling=true").stdout.split()
    assert dangling == [a]
    assert berth_host.run("images", "-q", "--no-trunc", "-f", "label=v=2").stdout.split() == [b]
    assert berth_host.run("images", "-q", "--no-trunc", "-f", "reference=app:*").stdout.split() == [b]
    assert berth_host.run("images", "-q", "-f", "reference=nothing*").stdout.split() == []
    table = berth_host.run("images", "-a").stdout.splitlines()
    assert any(line.startswith("<none>") for line in table)
    digests = berth_host.run("images", "--digests").stdout.splitlines()[0].split()
    assert digests[:3] == ["REPOSITORY", "TAG", "DIGEST"]
    p = berth_host.run("images", "-f", "bogus=1", check=False)
    assert p.returncode == 2 and "bogus" in p.stderr
    # prune removes the dangling one only; -a the rest
    out = berth_host.run("image", "prune", "-f").stdout
    assert f"deleted: {a}" in out and "Total reclaimed space" in out
    assert ids(berth_host) == [b]
    berth_host.run("image", "prune", "-a", "-f")
    assert ids(berth_host) == []


def test_history(berth_host, busybox_image):
    out = berth_host.json("history", "--format", "json", busybox_image)
    assert len(out) == 1 and out[0]["Comment"].startswith("Imported from")
    assert out[0]["Size"] > 500_000
    table = berth_host.run("history", busybox_image).stdout.splitlines()
    assert table[0].split()[:2] == ["IMAGE", "CREATED"]


def test_save_load_roundtrip(berth_host, busybox_image, tmp_path):
    info = berth_host.json("image", "inspect", busybox_image)[0]
    arc = tmp_path / "out.tar"
    berth_host.run("save", "-o", str(arc), busybox_image)
    with tarfile.open(arc) as tf:
        names = set(tf.getnames())
        man = json.load(tf.extractfile("manifest.json"))
        repos = json.load(tf.extractfile("repositories"))
        layer = tf.extractfile(man[0]["Layers"][0]).read()
    assert {"manifest.json", "repositories", "oci-layout", "index.json"} <= names
    assert man[0]["RepoTags"] == ["berth-test/busybox:latest"]
    assert "berth-test/busybox" in repos
    assert "sha256:" + hashlib.sha256(layer).hexdigest() == info["RootFS"]["Layers"][0]
    berth_host.run("rmi", busybox_image)
    out = berth_host.run("load", "-i", str(arc)).stdout
    assert out.strip() == "Loaded image: berth-test/busybox:latest"
    back = berth_host.json("image", "inspect", busybox_image)[0]
    assert back["Id"] == info["Id"]
    # and from stdin, via save to stdout
    data = berth_host.run("save", busybox_image, input=b"").stdout
    assert berth_host.run("load", input=data).returncode == 0
    if shutil.which("skopeo"):
        # the archive is an OCI layout too
        subprocess.run(["skopeo", "--insecure-policy", "inspect", f"oci-archive:{arc}"], check=True,
                       capture_output=True)


def test_load_legacy_docker_save_layout(berth_host, busybox_rootfs, tmp_path):
    """The pre-25 `docker save` layout: <v1id>/layer.tar, <config>.json, manifest.json."""
    layer = busybox_rootfs.read_bytes()
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    cfg_hex = hashlib.sha256(cfg).hexdigest()
    arc = tmp_path / "legacy.tar"
    with tarfile.open(arc, "w") as tf:
        for name, data in [(f"{'ab' * 32}/layer.tar", layer), (f"{'ab' * 32}/VERSION", b"1.0"),
                           (f"{cfg_hex}.json", cfg),
                           ("manifest.json", json.dumps([{"Config": f"{cfg_hex}.json", "RepoTags": ["legacy:1"],
                                                           "Layers": [f"{'ab' * 32}/layer.tar"]}]).encode()),
                           ("repositories", json.dumps({"legacy": {"1": "ab" * 32}}).encode())]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    assert berth_host.run("load", "-i", str(arc)).stdout.strip() == "Loaded image: legacy:1"
    assert berth_host.json("image", "inspect", "legacy:1")[0]["Id"] == "sha256:" + cfg_hex


def test_load_garbage_refused(berth_host, tmp_path):
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"not a tar at all" * 100)
    p = berth_host.run("load", "-i", str(bad), check=False)
    assert p.returncode == 1 and "not a tar archive" in p.stderr
    assert ids(berth_host) == []


def test_info_and_version(berth_host, busybox_image):
    info = berth_host.json("info", "--format", "json")
    assert info["Images"] == 1 and info["Driver"] == "overlay"
    assert info["DockerRootDir"] == str(berth_host.root)
    assert info["CgroupVersion"] in ("1", "2")
    assert info["SeccompProfile"]["Path"]
    assert info["ServerVersion"] and info["RunRoot"] == str(berth_host.runroot) and "Nftables" in info
    rt = info["Runtimes"][info["DefaultRuntime"]]
    if shutil.which(info["DefaultRuntime"]):
        assert rt["path"] and rt["version"][:1].isdigit()
    human = berth_host.run("info").stdout
    for label in ("Server Version", "Storage Driver: overlay", "Cgroup Version", "Default Runtime", "Nftables",
                  "Seccomp Profile", "Images: 1", "Berth Root Dir"):
        assert label in human, human
    v = berth_host.json("version", "--format", "json")
    assert v["Version"] and v["ApiVersion"] == 1


def test_rmi_refuses_image_used_by_container(berth_host, busybox_image):
    image_id = berth_host.json("image", "inspect", busybox_image)[0]["Id"]
    berth_host.run("create", "--name", "user-of-image", busybox_image, "true")
    p = berth_host.run("rmi", busybox_image, check=False)
    assert p.returncode == 1 and "user-of-image" in p.stderr and "must force" in p.stderr
    assert berth_host.json("image", "inspect", busybox_image)[0]["Id"] == image_id
    # prune -a keeps it too
    berth_host.run("image", "prune", "-a", "-f")
    assert berth_host.json("image", "inspect", image_id)[0]["Id"] == image_id
    # forced: untagged, content kept for the container
    assert berth_host.run("rmi", "-f", busybox_image).stdout.strip() == "Untagged: berth-test/busybox:latest"
    info = berth_host.json("image", "inspect", image_id)[0]
    assert info["RepoTags"] == [] and all(
        (berth_host.root / "layers" / d[7:]).is_dir() for d in info["RootFS"]["Layers"])
    berth_host.run("rm", "-f", "user-of-image")
    berth_host.run("image", "prune", "-f")
    assert berth_host.run("images", "-q").stdout.strip() == ""


def test_info_counts_other_kinds(berth_host, busybox_image):
    berth_host.run("volume", "create", "info-vol")
    berth_host.run("create", "--name", "info-ctr", busybox_image, "true")
    try:
        info = berth_host.json("info", "--format", "json")
        assert (info["Volumes"], info["Containers"], info["ContainersStopped"], info["Images"]) == (1, 1, 1, 1)
    finally:
        berth_host.run("rm", "-f", "info-ctr")
        berth_host.run("volume", "rm", "info-vol")


def test_tag_rejects_bad_target(berth_host, busybox_image):
    p = berth_host.run("tag", busybox_image, "Bad/Name:1", check=False)
    assert p.returncode == 2 and "'Bad/Name:1'" in p.stderr and "lowercase" in p.stderr
    p = berth_host.run("tag", busybox_image, f"x@sha256:{'a' * 64}", check=False)
    assert p.returncode == 2 and "digest" in p.stderr
    p = berth_host.run("tag", "no-such-image", "Bad:1", check=False)  # the bad target is reported first
    assert p.returncode == 2 and "'Bad:1'" in p.stderr


@pytest.mark.requires("skopeo")
def test_load_skopeo_oci_archive(berth_host, busybox_image, tmp_path):
    arc = tmp_path / "oci.tar"
    src = f"oci:{berth_host.root}/oci:docker.io/berth-test/busybox:latest"
    subprocess.run(["skopeo", "--insecure-policy", "copy", src, f"oci-archive:{arc}:example.org/from/skopeo:2"],
                   check=True, capture_output=True)
    image_id = berth_host.json("image", "inspect", busybox_image)[0]["Id"]
    berth_host.run("rmi", busybox_image)
    out = berth_host.run("load", "-i", str(arc)).stdout
    assert out.strip() == "Loaded image: example.org/from/skopeo:2"
    assert berth_host.json("image", "inspect", "example.org/from/skopeo:2")[0]["Id"] == image_id


def test_rmi_force_by_id_removes_every_tag(berth_host, busybox_image):
    berth_host.run("tag", busybox_image, "a/b:1")
    berth_host.run("tag", busybox_image, "c:2")
    info = berth_host.json("image", "inspect", busybox_image)[0]
    short = info["Id"][7:19]
    assert berth_host.run("rmi", short, check=False).returncode == 1
    events = berth_host.json("rmi", "-f", "--format", "json", short)
    assert sorted(e["Untagged"] for e in events if "Untagged" in e) == ["a/b:1", "berth-test/busybox:latest", "c:2"]
    assert events[-1] == {"Deleted": info["Id"]}
    assert berth_host.run("images", "-aq").stdout.strip() == ""
    assert not (berth_host.root / "layers" / info["RootFS"]["Layers"][0][7:]).exists()


def test_load_docker_containerd_store_save(berth_host, busybox_rootfs, tmp_path):
    """`docker save` from Docker 25+ with the containerd image store: an OCI layout whose
    manifest.json points at the registry's gzip-compressed layer blobs."""
    import gzip

    def sha(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    layer = busybox_rootfs.read_bytes()
    gz = gzip.compress(layer, compresslevel=1, mtime=0)
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(layer)]}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": "sha256:" + sha(cfg), "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": "sha256:" + sha(gz), "size": len(gz)}]}).encode()
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(man),
         "size": len(man), "annotations": {"io.containerd.image.name": "docker.io/library/fromdocker:25",
                                           "org.opencontainers.image.ref.name": "25"}}]}).encode()
    manifest_json = json.dumps([{"Config": f"blobs/sha256/{sha(cfg)}", "RepoTags": ["fromdocker:25"],
                                 "Layers": [f"blobs/sha256/{sha(gz)}"],
                                 "LayerSources": {f"sha256:{sha(layer)}": {
                                     "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                     "size": len(gz), "digest": f"sha256:{sha(gz)}"}}}]).encode()
    arc = tmp_path / "docker25.tar"
    with tarfile.open(arc, "w") as tf:
        for name, data in [(f"blobs/sha256/{sha(gz)}", gz), (f"blobs/sha256/{sha(cfg)}", cfg),
                           (f"blobs/sha256/{sha(man)}", man), ("index.json", index),
                           ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("manifest.json", manifest_json)]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    assert berth_host.run("load", "-i", str(arc)).stdout.strip() == "Loaded image: fromdocker:25"
    info = berth_host.json("image", "inspect", "fromdocker:25")[0]
    assert info["Id"] == "sha256:" + sha(cfg)
    assert (berth_host.root / "layers" / sha(layer) / "bin" / "busybox").is_file()
    assert (berth_host.root / "oci" / "blobs" / "sha256" / sha(gz)).is_file()  # the compressed blob kept as is


def test_images_and_image_inspect_format_templates(berth_host, busybox_image):
    h = berth_host
    h.run("tag", busybox_image, "other/name:v2")
    image_id = h.json("image", "inspect", busybox_image)[0]["Id"]
    assert h.run("image", "inspect", "-f", "{{.Id}} {{json .Config.Cmd}}", "other/name:v2").stdout == \
        f"{image_id} {json.dumps(h.json('image', 'inspect', busybox_image)[0]['Config']['Cmd'], separators=(',', ':'))}\n"
    refs = h.run("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.splitlines()
    assert sorted(refs) == sorted([f"berth-test/busybox:latest {image_id[7:19]}", f"other/name:v2 {image_id[7:19]}"])
    table = h.run("images", "--no-trunc", "--format", "table {{.Repository}}\\t{{.ID}}", "other/name").stdout
    assert [ln.split() for ln in table.splitlines()] == [["REPOSITORY", "IMAGE", "ID"], ["other/name", image_id]]
    # -q wins over --format, as in docker
    assert h.run("images", "-q", "--format", "{{.Repository}}").stdout.split() == [image_id[7:19]]
    p = h.run("images", "--format", "{{.Nope}}", check=False)
    assert p.returncode == 2 and "Nope" in p.stderr
