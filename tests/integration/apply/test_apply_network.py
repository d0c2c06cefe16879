"""`berth apply` kind network and login against the real engine (netlink-free parts) and the
real registry fixture."""

import json

import pytest

from .helpers import converge, refused, request

pytestmark = pytest.mark.requires("root")


def networks(host):
    return sorted((n["Name"], json.dumps(n.get("Labels"), sort_keys=True), n.get("Internal"))
                  for n in host.json("ls", "network"))


def test_network_lifecycle(berth_host):
    snap = lambda: networks(berth_host)  # noqa: E731
    spec = {"name": "appnet", "ipam_config": [{"subnet": "10.91.0.0/24", "gateway": "10.91.0.1"}],
            "labels": {"tier": "app"}}
    r = converge(berth_host, request("network", spec), snap)
    assert r["actions"] == ["created"]
    assert r["resource"]["IPAM"]["Config"][0]["Subnet"] == "10.91.0.0/24"
    r = converge(berth_host, request("network", {**spec, "internal": True}), snap)
    assert r["actions"] == ["recreated"] and r["diff"] == {"before": {"internal": False},
                                                           "after": {"internal": True}}
    assert r["resource"]["Internal"] is True
    refused(berth_host, request("network", {**spec, "enable_ipv6": True}), "spec.enable_ipv6", snap)
    refused(berth_host, request("network", {**spec, "ipam_config": [{"subnet": "10.91.0.0/99"}]}),
            "spec.ipam_config.0.subnet", snap)
    refused(berth_host, request("network", {**spec, "colour": "red"}), "spec.colour", snap)
    r = converge(berth_host, request("network", {"name": "appnet"}, "absent"), snap)
    assert r["actions"] == ["removed"]
    assert "appnet" not in [n[0] for n in networks(berth_host)]


@pytest.mark.requires("registry")
def test_login_lifecycle(berth_host, registry):
    spec = {"registry_url": registry.url, "username": registry.user, "password": registry.password}
    r = converge(berth_host, request("login", spec))
    assert r["actions"] == [f"logged in {registry.host}"]
    assert registry.password not in json.dumps(r)
    # the read side: `inspect login REGISTRY` and `ls login`, the user but never the password
    facts = {"registry": registry.host, "username": registry.user}
    assert r["resource"] == facts
    assert berth_host.json("inspect", "login", registry.url, "--json") == [facts]
    assert berth_host.json("ls", "login", "--json") == [facts]
    assert registry.password not in berth_host.run("ls", "login", "--json").stdout
    rc, out = berth_host.apply(request("login", {**spec, "password": "wrong-pw-123"}))
    assert rc == 1 and "wrong-pw-123" not in json.dumps(out)
    r = converge(berth_host, request("login", {"registry_url": registry.url}, "absent"))
    assert r["actions"] == [f"logged out {registry.host}"]
    p = berth_host.run("inspect", "login", registry.host, "--json", check=False)
    assert p.returncode == 3 and json.loads(p.stdout) == []
    assert berth_host.json("ls", "login", "--json") == []


def test_info_and_api_mismatch(berth_host):
    rc, out = berth_host.apply(request("info", {"type": "network", "name": "nope"}))
    assert rc == 0 and out["exists"] is False and out["changed"] is False
    rc, out = berth_host.apply({"api": 2, "kind": "network", "spec": {"name": "x"}})
    assert rc == 2 and out["error"]["type"] == "api_mismatch" and "berth.engine.host" in out["error"]["message"]
