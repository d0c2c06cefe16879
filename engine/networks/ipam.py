"""Address management: subnets and addresses as pure functions over plain data, so they can be
tested without a kernel. Callers hold the networks lock around read-allocate-write."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from engine.errors import Conflict, InvalidArgument

IPv4Net = ipaddress.IPv4Network


def parse_subnet(value: str, field: str = "subnet") -> IPv4Net:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid {field} {value!r}: not an IPv4 CIDR such as 10.10.0.0/24",
                              field=field) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise InvalidArgument(f"invalid {field} {value!r}: only IPv4 is supported", field=field)
    if net.prefixlen > 30:
        raise InvalidArgument(f"invalid {field} {value!r}: prefix longer than /30 leaves no addresses",
                              field=field)
    return net


def parse_ip(value: str, field: str = "ip") -> ipaddress.IPv4Address:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidArgument(f"invalid {field} {value!r}: not an IPv4 address", field=field) from None
    if not isinstance(ip, ipaddress.IPv4Address):
        raise InvalidArgument(f"invalid {field} {value!r}: only IPv4 is supported", field=field)
    return ip


def pick_subnet(pool: str, size: int, taken: Iterable[IPv4Net]) -> IPv4Net:
    """The first `size`-prefix subnet of `pool` that overlaps nothing in `taken`."""
    pnet = parse_subnet(pool, "subnet_pool")
    if size < pnet.prefixlen or size > 30:
        raise InvalidArgument(f"invalid subnet_size {size}: must be between /{pnet.prefixlen} and /30",
                              field="subnet_size")
    taken = [t for t in taken if t.prefixlen > 0]  # a default route overlaps everything: ignore it
    start = ipaddress.ip_address(pool.split("/")[0])
    for cand in pnet.subnets(new_prefix=size):
        if cand.broadcast_address < start:
            continue  # a pool written as 172.17.0.0/12 starts at 172.17, like Docker's
        if not any(cand.overlaps(t) for t in taken):
            return cand
    raise Conflict(f"no free subnet of size /{size} left in subnet_pool {pool}", field="subnet_pool")


def default_gateway(subnet: IPv4Net) -> ipaddress.IPv4Address:
    return subnet.network_address + 1


def check_config(subnet: IPv4Net, gateway: str | None, ip_range: str | None) -> tuple[str, str | None]:
    """Validate gateway and ip_range against the subnet; return (gateway, ip_range) as strings."""
    if gateway:
        gw = parse_ip(gateway, "gateway")
        if gw not in subnet or gw in (subnet.network_address, subnet.broadcast_address):
            raise InvalidArgument(f"invalid gateway {gateway!r}: not a host address of subnet {subnet}",
                                  field="gateway")
    else:
        gw = default_gateway(subnet)
    rng = None
    if ip_range:
        r = parse_subnet(ip_range, "ip_range")
        if not r.subnet_of(subnet):
            raise InvalidArgument(f"invalid ip_range {ip_range!r}: not inside subnet {subnet}", field="ip_range")
        rng = str(r)
    return str(gw), rng


def allocate(subnet: str, gateway: str, ip_range: str | None, used: Iterable[str],
             requested: str | None = None) -> str:
    """An address of the subnet that is neither the gateway nor in `used`. A requested address
    must be free and inside the subnet (it may lie outside ip_range, as in Docker)."""
    net = ipaddress.ip_network(subnet)
    used_set = {ipaddress.ip_address(u) for u in used}
    used_set.add(ipaddress.ip_address(gateway))
    if requested:
        ip = parse_ip(requested, "ip")
        if ip not in net or ip in (net.network_address, net.broadcast_address):
            raise InvalidArgument(f"invalid ip {requested!r}: not a host address of subnet {subnet}", field="ip")
        if ip in used_set:
            raise Conflict(f"address {requested} is already in use on subnet {subnet}", field="ip")
        return str(ip)
    scope = ipaddress.ip_network(ip_range) if ip_range else net
    for ip in scope:  # only the subnet's own network/broadcast addresses are reserved
        if ip in (net.network_address, net.broadcast_address) or ip in used_set:
            continue
        return str(ip)
    raise Conflict(f"no free address left in {'ip_range ' + ip_range if ip_range else 'subnet ' + subnet}",
                   field="ip")


def mac_for(ip: str) -> str:
    """Docker's classic deterministic MAC: 02:42 followed by the four address bytes."""
    b = ipaddress.ip_address(ip).packed
    return "02:42:" + ":".join(f"{x:02x}" for x in b)


def parse_mac(value: str, field: str = "mac_address") -> str:
    parts = value.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts):
        raise InvalidArgument(f"invalid {field} {value!r}: expected six hex pairs like 02:42:ac:11:00:02",
                              field=field)
    if int(parts[0], 16) & 1:
        raise InvalidArgument(f"invalid {field} {value!r}: a multicast address", field=field)
    return value.lower()
