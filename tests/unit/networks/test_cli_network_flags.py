"""`run --network` given several times, and docker's advanced `--network name=...,alias=...` form."""

from __future__ import annotations

import pytest

from engine.cli.container_cmds import _add_create_flags, _create_parser, body_from_args
from engine.errors import InvalidArgument


def _body(*argv: str) -> dict:
    p = _create_parser("run", "")
    _add_create_flags(p)
    return body_from_args(p.parse_args([*argv, "img"]))


def test_single_network_keeps_the_plain_shape():
    b = _body("--network", "app")
    assert b["HostConfig"]["NetworkMode"] == "app" and "NetworkingConfig" not in b
    b = _body("--network-alias", "www", "--ip", "10.0.0.5")
    assert b["NetworkingConfig"]["EndpointsConfig"] == {
        "bridge": {"Aliases": ["www"], "IPAMConfig": {"IPv4Address": "10.0.0.5"}}}


def test_several_networks_first_is_the_mode_and_flags_go_to_it():
    b = _body("--network", "front", "--network", "name=back,alias=db,alias=store,ip=10.1.0.9,mac-address=02:00:00:00:00:09",
              "--network-alias", "web")
    assert b["HostConfig"]["NetworkMode"] == "front"
    assert b["NetworkingConfig"]["EndpointsConfig"] == {
        "front": {"Aliases": ["web"]},
        "back": {"Aliases": ["db", "store"], "IPAMConfig": {"IPv4Address": "10.1.0.9"},
                 "MacAddress": "02:00:00:00:00:09"}}


@pytest.mark.parametrize("args,needle", [
    (["--network", "a", "--network", "a"], "'a'"),
    (["--network", "name=x,colour=red"], "colour"),
    (["--network", "alias=y"], "alias=y"),
    (["--network", "name=x,ip"], "'ip'"),
])
def test_bad_network_flags_name_the_value(args, needle):
    with pytest.raises(InvalidArgument) as e:
        _body(*args)
    assert needle in e.value.message and e.value.field == "network"


def test_publish_ranges_as_docker():
    from engine.cli.container_cmds import parse_ports

    assert parse_ports(["8000-8001:80-81"])[1] == {"80/tcp": [{"HostIp": "", "HostPort": "8000"}],
                                                   "81/tcp": [{"HostIp": "", "HostPort": "8001"}]}
    assert parse_ports(["127.0.0.1:8000-8009:80/udp"])[1] == {
        "80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8000-8009"}]}
    for bad in ("8000:80-81", "8000-8002:80-81"):
        with pytest.raises(InvalidArgument, match="ranges"):
            parse_ports([bad])


def test_mount_volume_opt_and_label_as_docker_csv():
    from engine.cli.container_cmds import _mount_flag

    m = _mount_flag('type=volume,src=v,dst=/d,volume-driver=local,volume-opt=type=tmpfs,'
                    '"volume-opt=o=size=2m,mode=700",volume-label=team=db')
    assert m["VolumeOptions"] == {"DriverConfig": {"Name": "local", "Options": {"type": "tmpfs",
                                                                                  "o": "size=2m,mode=700"}},
                                  "Labels": {"team": "db"}}
    with pytest.raises(InvalidArgument, match="volume-opt"):
        _mount_flag("type=volume,dst=/d,volume-opt=novalue")
