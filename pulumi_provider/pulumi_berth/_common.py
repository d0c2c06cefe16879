"""What every resource class shares: connection/engine inputs, secrets marking, outputs."""

from __future__ import annotations

from typing import Any, TypedDict

import pulumi

SECRET_CONNECTION_FIELDS = ("private_key", "private_key_passphrase", "password")


class ConnectionArgs(TypedDict, total=False):
    """How to reach the Berth host over SSH. ``private_key``/``password`` are stored as secrets.
    The host key must match ``host_key`` (a public key line) or an entry in ``known_hosts``."""

    host: pulumi.Input[str]
    port: pulumi.Input[int]
    user: pulumi.Input[str]
    private_key: pulumi.Input[str]
    private_key_passphrase: pulumi.Input[str]
    password: pulumi.Input[str]
    host_key: pulumi.Input[str]
    known_hosts: pulumi.Input[str]
    timeout: pulumi.Input[float]
    retries: pulumi.Input[int]


class EngineArgs(TypedDict, total=False):
    """Where the engine is on the host: ``command`` (default /opt/berth/bin/berth) and its
    ``root``/``runroot``/``config`` (default: the engine's own defaults); ``sudo`` for non-root."""

    command: pulumi.Input[str]
    root: pulumi.Input[str]
    runroot: pulumi.Input[str]
    config: pulumi.Input[str]
    sudo: pulumi.Input[bool]


def secret_connection(conn: Any) -> Any:
    """Wrap the secret fields of a connection in pulumi secrets (works on plain dicts and
    Outputs of dicts)."""
    if conn is None:
        return None
    if isinstance(conn, dict):
        out = dict(conn)
        for k in SECRET_CONNECTION_FIELDS:
            if out.get(k) is not None:
                out[k] = pulumi.Output.secret(out[k])
        return out
    return pulumi.Output.from_input(conn).apply(lambda c: secret_connection(c))


def opts_with_secrets(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    extra = pulumi.ResourceOptions(additional_secret_outputs=["connection", *names])
    return pulumi.ResourceOptions.merge(opts, extra)


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def dig(d: Any, *path: Any, default: Any = None) -> Any:
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return default
        if d is None:
            return default
    return d
