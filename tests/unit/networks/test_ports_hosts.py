from __future__ import annotations

import socket

import pytest

from engine.errors import Conflict, InvalidArgument
from engine.networks import firewall, hostsfile, ports


@pytest.mark.parametrize("spec,want", [
    ("80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("8080:80", {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    ("127.0.0.1:8080:80/udp", {"80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
    ("127.0.0.1::80", {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}),
    ("9000-9001:80-81", {"80/tcp": [{"HostIp": "", "HostPort": "9000"}],
                         "81/tcp": [{"HostIp": "", "HostPort": "9001"}]}),
    ("9000-9010:80", {"80/tcp": [{"HostIp": "", "HostPort": "9000-9010"}]}),
])
def test_parse_publish(spec, want):
    assert ports.parse_publish(spec) == want


@pytest.mark.parametrize("spec", ["80/sctp", "x:80", "1.2.3:80:80", "0:80", "9000-9001:80-82", "70000"])
def test_parse_publish_rejects_naming_the_spec(spec):
    with pytest.raises(InvalidArgument) as e:
        ports.parse_publish(spec)
    assert spec in e.value.message


def test_requested_with_publish_all():
    want = ports.requested({"80/tcp": [{"HostPort": "8080"}]}, True, {"80/tcp": {}, "53/udp": {}})
    assert want == [("tcp", "", "8080", 80), ("udp", "", "", 53)]


def test_resolve_conflicts_with_berth_and_sockets():
    with pytest.raises(Conflict, match="8080/tcp is already allocated by container web"):
        ports.resolve([("tcp", "", "8080", 80)], [("tcp", "0.0.0.0", 8080, "container web")])
    # another IP on the same port does not clash
    b = ports.resolve([("udp", "127.0.0.2", "8080", 80)], [("udp", "127.0.0.1", 8080, "container web")])
    assert b[0].host_port == 8080
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        with pytest.raises(Conflict, match=f"{port}/tcp is already in use"):
            ports.resolve([("tcp", "", str(port), 80)], [])
    finally:
        s.close()
    auto = ports.resolve([("tcp", "", "", 80), ("tcp", "", "", 81)], [])
    assert auto[0].host_port != auto[1].host_port


def test_hosts_and_resolv():
    text = hostsfile.render_hosts([("10.0.0.2", ["h1", "web", "alias", "web"])],
                                  hostsfile.parse_extra_hosts(["db:10.9.9.9", "gw:host-gateway"], "10.0.0.1"),
                                  [("10.0.0.3", ["peer", "abc123"])])
    assert text.startswith("127.0.0.1\tlocalhost\n")
    assert "10.9.9.9\tdb\n" in text and "10.0.0.1\tgw\n" in text
    assert "10.0.0.2\th1 web alias\n" in text and "10.0.0.3\tpeer abc123\n" in text
    with pytest.raises(InvalidArgument, match="nohost"):
        hostsfile.parse_extra_hosts(["nohost"], None)
    host = "# x\nnameserver 127.0.0.53\nnameserver 10.0.0.53\nsearch example.com\noptions ndots:2\n"
    assert hostsfile.render_resolv(host, None, None, None) == \
        "nameserver 10.0.0.53\nsearch example.com\noptions ndots:2\n"
    assert hostsfile.render_resolv("nameserver 127.0.0.1\n", None, None, None) == \
        "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    assert hostsfile.render_resolv(host, ["1.1.1.1"], ["a.b"], ["rotate"]) == \
        "nameserver 1.1.1.1\nsearch a.b\noptions rotate\n"
    with pytest.raises(InvalidArgument, match="dns"):
        hostsfile.render_resolv("", ["bogus"], None, None)


def test_write_in_place_keeps_inode(tmp_path):
    p = tmp_path / "hosts"
    hostsfile.write_in_place(p, "a long first version\n")
    ino = p.stat().st_ino
    hostsfile.write_in_place(p, "short\n")
    assert p.stat().st_ino == ino and p.read_text() == "short\n"


def test_firewall_render_is_deterministic_and_empty_when_idle():
    assert firewall.render("berth", [], [{"id": "c" * 64, "ports": []}]) == ""
    nets = [{"id": "a" * 64, "bridge": "br-aaaaaaaaaaaa", "subnet": "10.1.0.0/24", "internal": False},
            {"id": "b" * 64, "bridge": "br-bbbbbbbbbbbb", "subnet": "10.2.0.0/24", "internal": True}]
    ctrs = [{"id": "c" * 64, "ports": [{"proto": "tcp", "host_ip": "127.0.0.1", "host_port": 8080,
                                        "container_ip": "10.1.0.2", "container_port": 80}]}]
    text = firewall.render("berth", nets, ctrs)
    assert text == firewall.render("berth", nets, ctrs)
    assert "chain nat-aaaaaaaaaaaa" in text and "chain fwd-bbbbbbbbbbbb" in text and "chain ctr-cccccccccccc" in text
    assert 'ip saddr 10.1.0.0/24 oifname != "br-aaaaaaaaaaaa" masquerade' in text
    assert 'ip saddr 10.2.0.0/24 oifname != "br-bbbbbbbbbbbb" masquerade' not in text  # internal: no NAT out
    assert "ip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.1.0.2:80" in text
