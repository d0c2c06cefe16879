"""Published port ranges and `berth port`; addresses released on rm and disconnect; a container
started on several networks at once."""

from __future__ import annotations

import socket
import time

import pytest

from tests.integration.networks.conftest import sh

pytestmark = pytest.mark.requires("root", "runc", "conmon", "nft", "busybox", "overlay")


def _free_block(n: int) -> int:
    """The first of `n` consecutive free TCP ports."""
    for _ in range(200):
        s = socket.socket()
        s.bind(("0.0.0.0", 0))
        base = s.getsockname()[1]
        s.close()
        if base + n > 65535:
            continue
        ok = True
        for p in range(base, base + n):
            t = socket.socket()
            try:
                t.bind(("0.0.0.0", p))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return base
    raise AssertionError("no block of free ports")


def _get(port: int, want: str) -> None:
    out = ""
    for _ in range(50):
        p = sh("timeout", "5", "busybox", "wget", "-qO-", f"http://127.0.0.1:{port}/hostname", check=False)
        out = p.stdout + p.stderr
        if want in p.stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f"port {port} never answered {want!r}: {out}")


def test_published_port_ranges_and_berth_port(berth_host, busybox_image):
    h = berth_host
    base = _free_block(5)
    # a range onto a range: 80->base, 81->base+1
    cid = h.run("run", "-d", "--name", "two", "-p", f"{base}-{base + 1}:80-81", busybox_image, "sh", "-c",
                "httpd -p 80 -h /etc && exec httpd -f -p 81 -h /etc").stdout.strip()
    ports = h.json("inspect", "two")[0]["NetworkSettings"]["Ports"]
    assert ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(base)}]
    assert ports["81/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(base + 1)}]
    _get(base, cid[:12])
    _get(base + 1, cid[:12])
    assert sorted(h.run("port", "two").stdout.splitlines()) == [
        f"80/tcp -> 0.0.0.0:{base}", f"81/tcp -> 0.0.0.0:{base + 1}"]
    # one container port on a host range: the first free port of the range, skipping a busy one
    busy = socket.socket()
    busy.bind(("0.0.0.0", base + 2))
    busy.listen()
    try:
        one = h.run("run", "-d", "--name", "one", "-p", f"{base + 2}-{base + 4}:80", busybox_image,
                    "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    finally:
        busy.close()
    assert h.run("port", "one", "80/tcp").stdout.strip() == f"0.0.0.0:{base + 3}"
    _get(base + 3, one[:12])
    # a range whose ports are all taken (by Berth) is refused, naming the range, and makes nothing
    p = h.run("run", "-d", "--name", "none-left", "-p", f"{base}-{base + 1}:80", busybox_image, "true", check=False)
    assert p.returncode != 0 and f"{base}-{base + 1}" in p.stderr
    assert "none-left" not in h.run("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_addresses_released_on_rm_and_disconnect(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "--subnet", "10.205.3.0/29", "tiny")  # .2-.6 for containers
    h.run("network", "create", "--subnet", "10.205.4.0/30", "one")  # .2 only

    def addr(name: str, net: str) -> str:
        return h.json("inspect", name)[0]["NetworkSettings"]["Networks"][net]["IPAddress"]

    h.run("run", "-d", "--name", "ca", "--network", "tiny", busybox_image, "sleep", "300")
    h.run("run", "-d", "--name", "cb", "--network", "tiny", busybox_image, "sleep", "300")
    assert (addr("ca", "tiny"), addr("cb", "tiny")) == ("10.205.3.2", "10.205.3.3")
    h.run("rm", "-f", "ca")
    h.run("run", "-d", "--name", "cc", "--network", "tiny", busybox_image, "sleep", "300")
    assert addr("cc", "tiny") == "10.205.3.2"  # a's address came back
    # the only address of `one`: taken, refused for a second container, back after disconnect
    h.run("network", "connect", "one", "cb")
    assert addr("cb", "one") == "10.205.4.2"
    p = h.run("run", "-d", "--name", "cd", "--network", "one", busybox_image, "sleep", "300", check=False)
    assert p.returncode != 0 and "no free address" in p.stderr
    h.run("rm", "-f", "cd", check=False)
    h.run("network", "disconnect", "one", "cb")
    h.run("run", "-d", "--name", "ce", "--network", "one", busybox_image, "sleep", "300")
    assert addr("ce", "one") == "10.205.4.2"
    # a stopped container holds no address (Docker's IPAM: released on stop, taken again on start)
    h.run("stop", "-t", "0", "ce")
    h.run("run", "-d", "--name", "cf", "--network", "one", busybox_image, "sleep", "300")
    assert addr("cf", "one") == "10.205.4.2"


def test_run_on_several_networks(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "--subnet", "10.206.1.0/24", "north")
    h.run("network", "create", "--subnet", "10.206.2.0/24", "south")
    h.run("run", "-d", "--name", "n1", "--network", "north", busybox_image, "sleep", "300")
    h.run("run", "-d", "--name", "s1", "--network", "south", busybox_image, "sleep", "300")
    h.run("run", "-d", "--name", "both", "--network", "north", "--network",
          "name=south,alias=bridgehead,ip=10.206.2.77", busybox_image, "sleep", "300")
    nets = h.json("inspect", "both")[0]["NetworkSettings"]["Networks"]
    assert sorted(nets) == ["north", "south"] and nets["south"]["IPAddress"] == "10.206.2.77"
    for peer in ("n1", "s1"):
        assert h.run("exec", "both", "ping", "-c1", "-W2", peer).returncode == 0
    # peers on the second network see its alias there
    assert h.run("exec", "s1", "ping", "-c1", "-W2", "bridgehead").returncode == 0
    assert "bridgehead" not in h.run("exec", "n1", "cat", "/etc/hosts").stdout
    # only one default route, through the first network
    routes = h.run("exec", "both", "ip", "route").stdout
    assert [ln for ln in routes.splitlines() if ln.startswith("default")] == [
        ln for ln in routes.splitlines() if ln.startswith("default via 10.206.1.1")] != []


def test_publish_all_takes_the_images_exposed_ports(berth_host, busybox_rootfs):
    from tests.fixtures.images import import_into

    h = berth_host
    img = import_into(h, busybox_rootfs, "berth-test/exposing:latest", ['CMD ["sh"]', "EXPOSE 80 9000/udp"])
    cid = h.run("run", "-d", "--name", "exp", "-P", img, "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    ports = h.json("inspect", "exp")[0]["NetworkSettings"]["Ports"]
    assert sorted(ports) == ["80/tcp", "9000/udp"] and all(ports[k] for k in ports)
    tcp = int(ports["80/tcp"][0]["HostPort"])
    assert h.run("port", "exp", "80").stdout.strip() == f"0.0.0.0:{tcp}"
    _get(tcp, cid[:12])


def test_ip_range_and_gateway_are_used(berth_host, busybox_image):
    h = berth_host
    h.run("network", "create", "--subnet", "10.207.0.0/24", "--gateway", "10.207.0.254",
          "--ip-range", "10.207.0.128/26", "ranged")
    out = h.run("run", "--rm", "--network", "ranged", busybox_image, "sh", "-c",
                "ip -o -4 addr show eth0; ip route").stdout
    assert " 10.207.0.128/24 " in out and "default via 10.207.0.254 " in out
    # a static address outside the range but inside the subnet is allowed, as in docker
    out = h.run("run", "--rm", "--network", "ranged", "--ip", "10.207.0.9", busybox_image,
                "ip", "-o", "-4", "addr", "show", "eth0").stdout
    assert " 10.207.0.9/24 " in out
    br = h.json("network", "inspect", "ranged")[0]["Id"][:12]
    assert sh("ip", "-o", "-4", "addr", "show", "dev", f"br-{br}", check=False).stdout == ""  # gone when idle
