import pytest

from engine.apply import normalize as n


@pytest.mark.parametrize("value,want", [
    ("512m", 512 * 1024**2), ("1g", 1024**3), ("1GB", 1024**3), ("1.5k", 1536), (1024, 1024), ("100", 100),
    ("2 MiB", 2 * 1024**2), (0, 0),
])
def test_size(value, want):
    assert n.size(value) == want


@pytest.mark.parametrize("value", ["12x", "", "-5", True, [1], -3])
def test_size_rejects(value):
    with pytest.raises(ValueError):
        n.size(value)


def test_size_minus_one_only_for_swap():
    assert n.size(-1, allow_minus_one=True) == -1
    assert n.size("-1", allow_minus_one=True) == -1


@pytest.mark.parametrize("value,want", [
    ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), (30, 30 * 10**9), ("2h", 7200 * 10**9), ("1.5s", 15 * 10**8),
    ("10", 10 * 10**9),
])
def test_duration(value, want):
    assert n.duration_ns(value) == want


@pytest.mark.parametrize("value", ["1x", "s", "", "1m 30q", True])
def test_duration_rejects(value):
    with pytest.raises(ValueError):
        n.duration_ns(value)


@pytest.mark.parametrize("value,want", [(1.5, 1_500_000_000), ("0.5", 500_000_000), (2, 2_000_000_000)])
def test_nano_cpus(value, want):
    assert n.nano_cpus(value) == want


@pytest.mark.parametrize("specs,want", [
    (["8080:80"], {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    (["127.0.0.1:8080:80/udp"], {"80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
    (["127.0.0.1::80"], {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}),
    ([80], {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    (["8000-8001:80-81"], {"80/tcp": [{"HostIp": "", "HostPort": "8000"}],
                           "81/tcp": [{"HostIp": "", "HostPort": "8001"}]}),
    (["[::1]:80:80"], {"80/tcp": [{"HostIp": "::1", "HostPort": "80"}]}),
    (["80:80", "81:80"], {"80/tcp": [{"HostIp": "", "HostPort": "80"}, {"HostIp": "", "HostPort": "81"}]}),
])
def test_published_ports(specs, want):
    assert n.published_ports(specs) == want


@pytest.mark.parametrize("spec", ["a:b", "1:2:3:4", "80/xyz", "8000-8002:80-81", "99999:80"])
def test_published_ports_reject(spec):
    with pytest.raises(ValueError):
        n.published_ports([spec])


def test_port_bindings_canon_treats_all_addresses_alike():
    a = n.port_bindings_canon({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]})
    b = n.port_bindings_canon(n.published_ports(["8080:80"]))
    assert a == b


def test_env_roundtrip_and_env_file():
    assert n.env_list({"A": 1, "B": True}) == ["A=1", "B=true"]
    assert n.env_dict(["A=1", "B=x=y", "C"]) == {"A": "1", "B": "x=y", "C": ""}
    assert n.parse_env_file("# c\nA=1\n\nB=two words\n") == {"A": "1", "B": "two words"}
    with pytest.raises(ValueError, match="line 1"):
        n.parse_env_file("BAD KEY=1")


def test_volumes_split_binds_and_anonymous():
    binds, anon = n.volumes(["/src:/dst:ro", "named:/data", "/anon"])
    assert binds == ["/src:/dst:ro", "named:/data"]
    assert anon == {"/anon": {}}
    assert n.bind_canon("/a:/b:rw") == n.bind_canon("/a:/b")
    with pytest.raises(ValueError):
        n.volumes(["rel:dst"])
    with pytest.raises(ValueError):
        n.volumes(["/a:/b:bogus"])


def test_misc_forms():
    assert n.command("echo 'a b'") == ["echo", "a b"]
    assert n.command(["a", 1]) == ["a", "1"]
    assert n.capability("net_admin") == "CAP_NET_ADMIN"
    assert n.ulimits(["nofile:1024:2048", "nproc:5"]) == [
        {"Name": "nofile", "Soft": 1024, "Hard": 2048}, {"Name": "nproc", "Soft": 5, "Hard": 5}]
    assert n.devices(["/dev/null:/dev/x:r"]) == [
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/x", "CgroupPermissions": "r"}]
    assert n.signal_name("term") == n.signal_name("15") == "SIGTERM"
    assert n.image_ref("busybox") == "docker.io/library/busybox:latest"
    assert n.healthcheck({"test": "true", "interval": "1m30s", "retries": 3}) == {
        "Test": ["CMD-SHELL", "true"], "Interval": 90 * 10**9, "Retries": 3}
    assert n.healthcheck({"test": ["sh", "-c", "x"]})["Test"] == ["CMD", "sh", "-c", "x"]
