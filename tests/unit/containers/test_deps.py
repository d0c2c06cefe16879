"""The resolv.conf a container gets when the containers area writes it (network none/host)."""

from __future__ import annotations

from engine.containers.deps import resolv_conf

HOST = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch corp.example\noptions edns0\n"


def test_loopback_nameservers_dropped():
    assert resolv_conf(HOST, {}) == "nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"


def test_only_loopback_gives_docker_defaults():
    out = resolv_conf("nameserver 127.0.0.53\noptions edns0 trust-ad\n", {})
    assert out == "nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0 trust-ad\n"


def test_host_network_keeps_loopback():
    assert resolv_conf(HOST, {}, keep_loopback=True).splitlines()[:3] == [
        "nameserver 127.0.0.53", "nameserver 10.0.0.2", "nameserver ::1"]


def test_user_dns_search_options_replace_the_hosts():
    out = resolv_conf(HOST, {"Dns": ["1.1.1.1"], "DnsSearch": ["a.example", "b.example"], "DnsOptions": ["ndots:2"]})
    assert out == "nameserver 1.1.1.1\nsearch a.example b.example\noptions ndots:2\n"
    assert "search" not in resolv_conf(HOST, {"DnsSearch": ["."]})
