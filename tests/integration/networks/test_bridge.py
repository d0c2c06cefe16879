"""Bridge networks end to end through the real `berth` CLI: netlink, nftables, runc."""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.integration.networks.conftest import free_port, host_address, sh, snapshot

pytestmark = pytest.mark.requires("root", "runc", "conmon", "nft", "busybox", "overlay")

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/etc")
UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9000))
while True:
    data, peer = s.recvfrom(100)
    s.sendto(b"echo:" + data, peer)
"""


def _wait_http(fetch, want: str, tries: int = 40) -> str:
    out = ""
    for _ in range(tries):
        p = fetch()
        out = p.stdout + p.stderr
        if want in p.stdout:
            return p.stdout
        time.sleep(0.1)
    raise AssertionError(f"never got {want!r}: {out}")


def test_user_network_names_aliases_and_live_hosts(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "app")
    web = h.run("run", "-d", "--name", "web", "--network", "app", "--network-alias", "www", busybox_image,
                *HTTPD).stdout.strip()
    # a peer resolves the name and the alias, and reaches the server over TCP
    out = h.run("run", "--rm", "--network", "app", busybox_image, "sh", "-c",
                "wget -qO- http://web/hostname && wget -qO- http://www/hostname").stdout
    assert out.split() == [web[:12], web[:12]]
    # the running server sees a peer that joins later, without a restart, and stops seeing it
    h.run("run", "-d", "--name", "late", "--network", "app", busybox_image, "sleep", "300")
    hosts = h.run("exec", "web", "cat", "/etc/hosts").stdout
    assert "\tlate " in hosts
    assert h.run("exec", "web", "ping", "-c1", "-W2", "late").returncode == 0
    h.run("rm", "-f", "late")
    assert "late" not in h.run("exec", "web", "cat", "/etc/hosts").stdout
    # a peer that stops and starts again: gone from the hosts file, then back with its address
    h.run("run", "-d", "--name", "mover", "--network", "app", busybox_image, "sleep", "300")
    h.run("stop", "-t", "0", "mover")
    assert "mover" not in h.run("exec", "web", "cat", "/etc/hosts").stdout
    h.run("run", "-d", "--name", "blocker", "--network", "app", busybox_image, "sleep", "300")
    h.run("start", "mover")
    ip = h.json("inspect", "mover")[0]["NetworkSettings"]["Networks"]["app"]["IPAddress"]
    assert f"{ip}\tmover " in h.run("exec", "web", "cat", "/etc/hosts").stdout
    assert h.run("exec", "web", "ping", "-c1", "-W2", "mover").returncode == 0
    # its own name and alias
    own = h.run("exec", "web", "cat", "/etc/hosts").stdout
    assert "web" in own and "www" in own
    net = h.json("network", "inspect", "app")[0]
    assert sorted(c["Name"] for c in net["Containers"].values()) == ["blocker", "mover", "web"]
    # the network is in use: refused, naming the container
    p = h.run("network", "rm", "app", check=False)
    assert p.returncode != 0 and "web" in p.stderr


def test_default_bridge_has_no_name_resolution(berth_host, busybox_image):
    h = berth_host
    h.run("run", "-d", "--name", "plain", busybox_image, "sleep", "300")
    ins = h.json("inspect", "plain")[0]["NetworkSettings"]
    assert ins["Networks"]["bridge"]["IPAddress"] == ins["IPAddress"] != ""
    p = h.run("run", "--rm", busybox_image, "ping", "-c1", "-W1", "plain", check=False)
    assert p.returncode != 0
    # but the address works
    assert h.run("run", "--rm", busybox_image, "ping", "-c1", "-W2", ins["IPAddress"]).returncode == 0


def test_internal_network_cannot_reach_out_nat_can(berth_host, busybox_image, other_host):
    h = berth_host
    # a server on the other host; it has no route to container subnets, so only NAT works
    srv = subprocess_server(other_host)
    try:
        h.run("network", "create", "--internal", "sealed")
        p = h.run("run", "--rm", "--network", "sealed", busybox_image, "sh", "-c",
                  f"ip route; timeout 5 wget -qO- http://{other_host.address}:8000/hostname", check=False)
        assert p.returncode != 0
        assert "default" not in p.stdout
        out = h.run("run", "--rm", busybox_image, "sh", "-c",
                f"timeout 5 wget -qO- http://{other_host.address}:8000/ || exit 1").stdout
        assert "berth-peer" in out
    finally:
        srv.kill()
        srv.wait()


def subprocess_server(other_host):
    import subprocess
    import tempfile

    d = tempfile.mkdtemp(prefix="berth-peer-")
    with open(f"{d}/index.html", "w") as f:
        f.write("berth-peer\n")
    srv = subprocess.Popen(["ip", "netns", "exec", other_host.netns, "busybox", "httpd", "-f", "-p", "8000",
                            "-h", d])
    time.sleep(0.3)
    return srv


def test_published_ports_tcp_udp_hairpin_and_other_host(berth_host, busybox_image, other_host):
    h = berth_host
    tport, uport = free_port("tcp"), free_port("udp")
    web = h.run("run", "-d", "--name", "pub", "-p", f"{tport}:80", "-p", f"{uport}:9000/udp", busybox_image,
                *HTTPD).stdout.strip()
    ports = h.json("inspect", "pub")[0]["NetworkSettings"]["Ports"]
    assert ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(tport)}]
    assert h.run("port", "pub", "80").stdout.strip().endswith(f":{tport}")
    # from the host itself, on 127.0.0.1 and on its own address
    for addr in ("127.0.0.1", host_address()):
        _wait_http(lambda a=addr: sh("timeout", "5", "busybox", "wget", "-qO-", f"http://{a}:{tport}/hostname",
                                     check=False), web[:12])
    # from another host
    _wait_http(lambda: other_host.run("timeout", "5", "busybox", "wget", "-qO-",
                                      f"http://{other_host.host_address}:{tport}/hostname"), web[:12])
    # from another container, through the host's address (hairpin)
    out = h.run("run", "--rm", busybox_image, "sh", "-c",
                f"timeout 5 wget -qO- http://{host_address()}:{tport}/hostname || exit 1").stdout
    assert out.strip() == web[:12]
    # from a container on another user network, through the host's address
    h.run("network", "create", "elsewhere")
    out = h.run("run", "--rm", "--network", "elsewhere", busybox_image, "sh", "-c",
                f"timeout 5 wget -qO- http://{host_address()}:{tport}/hostname || exit 1").stdout
    assert out.strip() == web[:12]
    # ... while the networks stay isolated from each other
    web_ip = h.json("inspect", "pub")[0]["NetworkSettings"]["IPAddress"]
    p = h.run("run", "--rm", "--network", "elsewhere", busybox_image, "sh", "-c",
                f"timeout 3 wget -qO- http://{web_ip}/hostname || exit 1", check=False)
    assert p.returncode != 0
    # UDP: busybox has no UDP server, so an echo server runs in the container's network namespace
    sandbox = h.json("inspect", "pub")[0]["NetworkSettings"]["SandboxKey"]
    echo = subprocess.Popen(["nsenter", f"--net={sandbox}", sys.executable, "-c", UDP_ECHO])
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        got = b""
        for _ in range(50):
            s.sendto(b"hello-udp", ("127.0.0.1", uport))
            try:
                got = s.recv(100)
                break
            except TimeoutError:
                continue
        s.close()
        assert got == b"echo:hello-udp"
    finally:
        echo.kill()
        echo.wait()
    # bound to 127.0.0.1 only: the host reaches it, another host does not
    lport = free_port()
    lo = h.run("run", "-d", "--name", "loonly", "-p", f"127.0.0.1:{lport}:80", busybox_image, *HTTPD).stdout
    _wait_http(lambda: sh("timeout", "5", "busybox", "wget", "-qO-", f"http://127.0.0.1:{lport}/hostname",
                          check=False), lo[:12])
    p = other_host.run("timeout", "3", "busybox", "wget", "-qO-", f"http://{other_host.host_address}:{lport}/")
    assert p.returncode != 0
    # -P: exposed ports on free host ports
    pall = h.run("run", "-d", "--name", "pall", "--expose", "80", "-P", busybox_image, *HTTPD).stdout
    got = h.json("inspect", "pall")[0]["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    _wait_http(lambda: sh("timeout", "5", "busybox", "wget", "-qO-", f"http://127.0.0.1:{got}/hostname", check=False),
               pall[:12])


def test_port_conflict_fails_cleanly(berth_host, busybox_image):
    h = berth_host
    before = snapshot(str(h.base))
    port = free_port()
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("0.0.0.0", port))
    lst.listen()
    try:
        p = h.run("run", "-d", "--name", "clash", "-p", f"{port}:80", busybox_image, *HTTPD, check=False)
        assert p.returncode != 0
        assert str(port) in p.stderr
    finally:
        lst.close()
    # a port held by another Berth container
    h.run("run", "-d", "--name", "holder", "-p", f"{port}:80", busybox_image, *HTTPD)
    p = h.run("run", "-d", "--name", "clash2", "-p", f"{port}:80", busybox_image, *HTTPD, check=False)
    assert p.returncode != 0 and str(port) in p.stderr and "holder" in p.stderr
    for n in ("clash", "clash2", "holder"):
        h.run("rm", "-f", n, check=False)
    after = snapshot(str(h.base))
    assert after["links"] == before["links"] and after["nsfs"] == before["nsfs"]


def test_concurrent_runs_never_share_an_address(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "--subnet", "10.203.7.0/28", "busy")

    def start(i: int) -> str:
        return h.run("run", "-d", "--name", f"c{i}", "--network", "busy", busybox_image, "sleep", "300").stdout

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        list(ex.map(start, range(6)))
    ips = [h.json("inspect", f"c{i}")[0]["NetworkSettings"]["Networks"]["busy"]["IPAddress"] for i in range(6)]
    assert len(set(ips)) == 6 and all(ip.startswith("10.203.7.") for ip in ips)
    # a static address already taken is refused, naming it
    p = h.run("run", "-d", "--network", "busy", "--ip", ips[0], busybox_image, "sleep", "1", check=False)
    assert p.returncode != 0 and ips[0] in p.stderr


def test_connect_disconnect_live(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "--subnet", "10.204.1.0/24", "front")
    h.run("network", "create", "--subnet", "10.204.2.0/24", "back")
    h.run("run", "-d", "--name", "db", "--network", "back", busybox_image, *HTTPD)
    h.run("run", "-d", "--name", "app", "--network", "front", busybox_image, "sleep", "300")
    assert h.run("exec", "app", "timeout", "5", "wget", "-qO-", "http://db/hostname", check=False).returncode != 0
    h.run("network", "connect", "--alias", "api", "--ip", "10.204.2.50", "back", "app")
    nets = h.json("inspect", "app")[0]["NetworkSettings"]["Networks"]
    assert nets["back"]["IPAddress"] == "10.204.2.50"
    assert "10.204.2.50" in h.run("exec", "app", "ip", "addr").stdout
    assert h.run("exec", "app", "timeout", "5", "wget", "-qO-", "http://db/hostname").returncode == 0
    assert "api" in h.run("exec", "db", "cat", "/etc/hosts").stdout
    h.run("network", "disconnect", "back", "app")
    assert "10.204.2.50" not in h.run("exec", "app", "ip", "addr").stdout
    assert "back" not in h.json("inspect", "app")[0]["NetworkSettings"]["Networks"]
    assert "api" not in h.run("exec", "db", "cat", "/etc/hosts").stdout
    # its only network disconnected, a container can join one again (Docker allows it), live
    h.run("network", "disconnect", "front", "app")
    assert "eth" not in h.run("exec", "app", "ip", "-o", "link").stdout
    h.run("network", "connect", "back", "app")
    assert h.run("exec", "app", "timeout", "5", "wget", "-qO-", "http://db/hostname").returncode == 0
    assert h.json("inspect", "app")[0]["HostConfig"]["NetworkMode"] == "back"
    # one created with --network none still may not
    h.run("run", "-d", "--name", "lone", "--network", "none", busybox_image, "sleep", "300")
    p = h.run("network", "connect", "back", "lone", check=False)
    assert p.returncode != 0 and "cannot be connected" in p.stderr


def test_modes_none_host_container(berth_host, busybox_image):
    h = berth_host
    out = h.run("run", "--rm", "--network", "none", busybox_image, "ip", "-o", "link").stdout
    assert [ln.split(":")[1].strip() for ln in out.splitlines()] == ["lo"]
    out = h.run("run", "--rm", "--network", "host", busybox_image, "readlink", "/proc/self/ns/net").stdout
    assert out.strip() == os.readlink("/proc/self/ns/net")
    h.run("run", "-d", "--name", "owner", "--network", "none", busybox_image, *HTTPD)
    out = h.run("run", "--rm", "--network", "container:owner", busybox_image, "wget", "-qO-",
                "http://127.0.0.1/hostname").stdout
    assert out.strip() == h.json("inspect", "owner")[0]["Id"][:12]


def test_everything_removed_leaves_nothing(berth_host, busybox_image):
    h = berth_host
    before = snapshot(str(h.base))
    h.run("network", "create", "n1")
    h.run("network", "create", "--internal", "n2")
    h.run("run", "-d", "--name", "ca", "--network", "n1", "-p", f"{free_port()}:80", busybox_image, *HTTPD)
    h.run("run", "-d", "--name", "cb", "--network", "n2", busybox_image, "sleep", "300")
    h.run("network", "connect", "n1", "cb")
    h.run("run", "-d", "--name", "cc", busybox_image, "sleep", "300")
    mid = snapshot(str(h.base))
    assert len(mid["links"]) > len(before["links"]) and mid["tables"] != before["tables"]
    h.run("rm", "-f", "ca", "cb", "cc")
    h.run("network", "rm", "n1", "n2")
    after = snapshot(str(h.base))
    assert after == before, json.dumps({"before": before, "after": after})
