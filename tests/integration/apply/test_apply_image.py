"""`berth apply` kind image: tag, push, pull, remove, export against the real store and the
real registry fixture."""

import pytest

from .helpers import converge, refused, request

pytestmark = pytest.mark.requires("root")


def tags(host):
    return sorted(t for i in host.json("ls", "image") for t in i["RepoTags"])


@pytest.mark.requires("registry")
def test_image_tag_push_pull_remove(berth_host, busybox_image, open_registry, tmp_path):
    snap = lambda: tags(berth_host)  # noqa: E731
    target = f"{open_registry.host}/apply/bb"
    r = converge(berth_host, request("image", {"name": busybox_image, "repository": [target], "tag": "v1"},
                                     options={"operation": "tag"}), snap)
    assert r["actions"] == [f"tagged {target}:v1"]
    assert f"{target}:v1" in tags(berth_host)
    r = converge(berth_host, request("image", {"name": target, "tag": "v1"}, options={"operation": "push"}))
    assert r["actions"] == [f"pushed {target}:v1"]  # the rerun finds the registry up to date
    r = converge(berth_host, request("image", {"name": target, "tag": "v1"}, options={"operation": "remove"}),
                 snap)
    assert r["actions"] == [f"removed {target}:v1"] and f"{target}:v1" not in tags(berth_host)
    # all-in-one docker_image: pull it back
    r = converge(berth_host, request("image", {"name": target, "tag": "v1", "source": "pull"}), snap)
    assert r["actions"] == [f"pulled {target}:v1"]
    assert r["resource"]["Id"] == berth_host.json("inspect", "image", busybox_image)[0]["Id"]
    r = converge(berth_host, request("image", {"name": target, "tag": "v1"}, "absent"), snap)
    assert r["actions"] == [f"removed {target}:v1"]


def test_image_bad_input(berth_host, busybox_image):
    snap = lambda: tags(berth_host)  # noqa: E731
    refused(berth_host, request("image", {"name": "Bad/Name"}, options={"operation": "pull"}), "spec.name", snap)
    refused(berth_host, request("image", {"name": busybox_image, "source": "teleport"}), "spec.source", snap)
    refused(berth_host, request("image", {"name": busybox_image}, options={"operation": "fly"}),
            "options.operation", snap)
    rc, out = berth_host.apply(request("image", {"name": "ghost/image"}, options={"operation": "push"}))
    assert rc == 1 and out["error"]["field"] == "spec.name"


def test_image_build_and_export(berth_host, busybox_image, tmp_path):
    ctxdir = tmp_path / "ctx"
    ctxdir.mkdir()
    (ctxdir / "Dockerfile").write_text(f"FROM {busybox_image}\nARG FLAVOUR=plain\nLABEL flavour=$FLAVOUR\n")
    spec = {"name": "apply/built", "tag": "1", "path": str(ctxdir), "args": {"FLAVOUR": "spicy"}}
    r = converge(berth_host, request("image", spec, options={"operation": "build"}))
    assert r["actions"] == ["built docker.io/apply/built:1"]
    assert r["resource"]["Config"]["Labels"]["flavour"] == "spicy"
    r = converge(berth_host, request("image", {"name": "apply/built", "tag": "2", "source": "build",
                                               "build": {"path": str(ctxdir)}}))
    assert r["actions"] == ["built docker.io/apply/built:2"]
    archive = tmp_path / "out.tar"
    r = converge(berth_host, request("image", {"names": ["apply/built:1"], "path": str(archive)},
                                     options={"operation": "export"}))
    assert r["actions"] == [f"exported {archive}"] and archive.stat().st_size > 0
    # remove it, load it back (docker_image_load), then the all-in-one source: load is a no-op
    converge(berth_host, request("image", {"name": "apply/built", "tag": "1"}, options={"operation": "remove"}))
    r = converge(berth_host, request("image", {"path": str(archive)}, options={"operation": "load"}))
    assert r["actions"] == [f"loaded {archive}"] and r["image_names"]
    r = converge(berth_host, request("image", {"name": "apply/built", "tag": "1", "source": "load",
                                               "load_path": str(archive)}))
    assert r["actions"] == []
    # prune of every unused image: the base image with builds on top goes too (check predicts it)
    r = converge(berth_host, request("prune", {"images": True, "images_filters": {"dangling": False}}))
    assert r["actions"] == ["pruned"] and len(r["images"]) >= 2
    assert berth_host.run("images", "-aq").stdout == ""


def test_image_build_bad_context_refused(berth_host, busybox_image, tmp_path):
    spec = {"name": "apply/bad", "path": str(tmp_path / "nowhere")}
    refused(berth_host, request("image", spec, options={"operation": "build"}, check=True), "spec.path")
    (tmp_path / "empty").mkdir()
    refused(berth_host, request("image", {"name": "apply/bad", "source": "build",
                                          "build": {"path": str(tmp_path / "empty")}}), "spec.build.dockerfile")
