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
    rc, out = berth_host.apply(request("image", {"name": target, "tag": "v1"}, options={"operation": "push"}))
    assert rc == 0 and out["actions"] == [f"pushed {target}:v1"], out
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
