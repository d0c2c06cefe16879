"""Build intermediates (untagged parents) in `images`, dangling, `image prune` and `rmi`, and
`images --format json` rows, as docker shows them."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.requires("root", "busybox")

ROW_KEYS = {"Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag",
            "UniqueSize", "VirtualSize"}


def ids(host, *args: str) -> set[str]:
    return set(host.run("images", "-q", "--no-trunc", *args).stdout.split())


def build(host, tmp_path, tag: str) -> tuple[str, str]:
    """A two-step metadata-only build (no RUN: no runtime needed): (final ID, intermediate ID)."""
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text("FROM berth-test/busybox\nENV A=1\nLABEL step=2\n")
    host.run("build", "-q", "-t", tag, str(ctx))
    final = host.json("image", "inspect", tag)[0]["Id"]
    mid = host.json("image", "inspect", final)[0]["Parent"]
    assert mid.startswith("sha256:") and host.json("image", "inspect", mid)[0]["RepoTags"] == []
    return final, mid


def test_intermediates_hidden_not_dangling_and_pruned_with_their_image(berth_host, busybox_image, tmp_path):
    base = berth_host.json("image", "inspect", busybox_image)[0]["Id"]
    final, mid = build(berth_host, tmp_path, "app:1")
    # only top-level images without -a; the intermediate is not dangling
    assert ids(berth_host) == {final, base}
    assert ids(berth_host, "-a") == {final, mid, base}
    assert ids(berth_host, "-f", "dangling=true") == set()
    assert ids(berth_host, "-a", "-f", "dangling=true") == set()
    assert ids(berth_host, "-a", "-f", "dangling=false") == {final, base}
    assert "<none>" not in berth_host.run("images").stdout
    # prune keeps a tagged image's build cache
    out = berth_host.run("image", "prune", "-f").stdout
    assert "deleted" not in out
    assert ids(berth_host, "-a") == {final, mid, base}
    # `berth ls image` lists what `images` lists; apply's prune (over that list) keeps the cache too
    assert {i["Id"] for i in berth_host.json("ls", "image")} == {final, base}
    rc, res = berth_host.apply({"api": 1, "kind": "prune", "spec": {"images": True}})
    assert rc == 0 and res["images"] == [], res
    assert ids(berth_host, "-a") == {final, mid, base}
    # --no-prune: only the image goes; its parent is now dangling and prune takes it
    out = berth_host.run("rmi", "--no-prune", "app:1").stdout.splitlines()
    assert out == ["Untagged: app:1", f"Deleted: {final}"]
    assert ids(berth_host, "-f", "dangling=true") == {mid}
    assert f"deleted: {mid}" in berth_host.run("image", "prune", "-f").stdout
    assert ids(berth_host, "-a") == {base}

    # an image with children: by ID refused; by its last tag only untagged
    final, mid = build(berth_host, tmp_path, "app:1")
    p = berth_host.run("rmi", base, check=False)
    assert p.returncode == 1 and "dependent child images" in p.stderr
    assert berth_host.run("rmi", busybox_image).stdout.splitlines() == ["Untagged: berth-test/busybox:latest"]
    assert ids(berth_host) == {final}
    assert ids(berth_host, "-a") == {final, mid, base}
    # rmi of the last tag deletes the image, then each untagged parent nothing else uses
    out = berth_host.run("rmi", "app:1").stdout.splitlines()
    assert out == ["Untagged: app:1", f"Deleted: {final}", f"Deleted: {mid}", f"Deleted: {base}"]
    assert ids(berth_host, "-a") == set()
    assert list((berth_host.root / "oci" / "blobs" / "sha256").iterdir()) == []
    assert list((berth_host.root / "layers").iterdir()) == []


def test_rmi_prunes_parents_only_up_to_a_shared_one(berth_host, busybox_image, tmp_path):
    base = berth_host.json("image", "inspect", busybox_image)[0]["Id"]
    final, mid = build(berth_host, tmp_path, "app:1")
    # a second build sharing the ENV step: the intermediate has two children
    (tmp_path / "ctx2").mkdir()
    (tmp_path / "ctx2" / "Dockerfile").write_text("FROM berth-test/busybox\nENV A=1\nLABEL step=other\n")
    berth_host.run("build", "-q", "-t", "app:2", str(tmp_path / "ctx2"))
    other = berth_host.json("image", "inspect", "app:2")[0]
    assert other["Parent"] == mid
    assert berth_host.run("rmi", "app:1").stdout.splitlines() == ["Untagged: app:1", f"Deleted: {final}"]
    assert ids(berth_host, "-a") == {other["Id"], mid, base}
    # prune -a: everything unused goes, intermediates with the image they lead to
    out = berth_host.run("image", "prune", "-a", "-f").stdout
    assert f"deleted: {mid}" in out and f"deleted: {other['Id']}" in out and f"deleted: {base}" in out
    assert ids(berth_host, "-a") == set()


def test_images_format_json_rows(berth_host, busybox_image, busybox_rootfs):
    berth_host.run("tag", busybox_image, "other/name:v2")
    dangling = berth_host.run("import", str(busybox_rootfs)).stdout.strip()
    info = berth_host.json("image", "inspect", busybox_image)[0]
    out = berth_host.run("images", "--format", "json").stdout
    assert "\\u003cnone\\u003e" in out  # json.Marshal escapes < and >, as docker prints it
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(set(r) == ROW_KEYS for r in rows)
    by_ref = {(r["Repository"], r["Tag"]): r for r in rows}
    assert set(by_ref) == {("berth-test/busybox", "latest"), ("other/name", "v2"), ("<none>", "<none>")}
    row = by_ref["berth-test/busybox", "latest"]
    assert row["ID"] == info["Id"][7:19] and row["Digest"] == "<none>"
    assert row["Size"].endswith("MB") and row["Size"] == row["VirtualSize"]
    assert row["CreatedSince"].endswith(" ago") and row["CreatedAt"][:4].isdigit()
    assert row["Containers"] == row["SharedSize"] == row["UniqueSize"] == "N/A"
    assert by_ref["<none>", "<none>"]["ID"] == dangling[7:19]
    full = [json.loads(line) for line in
            berth_host.run("images", "--format", "json", "--no-trunc", "other/name").stdout.splitlines()]
    assert [r["ID"] for r in full] == [info["Id"]]
    # image inspect keeps the full document
    assert berth_host.json("image", "inspect", "other/name:v2")[0]["RootFS"]["Type"] == "layers"
