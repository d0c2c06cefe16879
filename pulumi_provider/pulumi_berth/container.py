"""`Container`: one container on a Berth host (`berth apply` kind `container`)."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pulumi.dynamic

from . import _diff
from ._base import BerthProvider
from ._common import ConnectionArgs, EngineArgs, dig, drop_none, opts_with_secrets, secret_connection

# docs/apply.md: options marked "in place" (plus the run state: start/stop is not a recreate)
IN_PLACE = frozenset({
    "restart_policy", "restart_retries", "memory", "memory_swap", "memory_reservation", "cpus",
    "cpu_shares", "cpu_period", "cpu_quota", "cpuset_cpus", "cpuset_mems", "pids_limit", "blkio_weight",
    "state", "paused",
})
# behaviour options: never compared by the engine; a change only reaches the state (and the next apply)
BEHAVIOUR = frozenset({
    "pull", "comparisons", "force_kill", "kill_signal", "keep_volumes", "removal_wait_timeout",
    "healthy_wait_timeout", "image_comparison", "image_name_mismatch", "detach", "cleanup", "output_logs",
    "command_handling", "networks_cli_compatible", "container_default_behavior",
})
OUTPUTS = frozenset({"container_id", "image_id", "status", "ip_addresses", "ports"})


class ContainerProvider(BerthProvider):
    KIND: ClassVar[str] = "container"
    DEFAULT_STATE: ClassVar[str] = "started"
    IN_PLACE = IN_PLACE | BEHAVIOUR
    IGNORED = frozenset({"recreate", "restart"})  # one-shot triggers, not desired state
    STATE_ONLY = BEHAVIOUR
    OUTPUTS = OUTPUTS

    def _state(self, props: dict[str, Any]) -> str:
        return str(props.get("state") or self.DEFAULT_STATE)

    def _plan(self, olds: dict[str, Any], news: dict[str, Any]) -> _diff.Plan:
        """The engine's split: besides the in-place options, ``networks`` changes in place
        (connect/disconnect) while the primary network, the first one, stays as it was; an
        option the user's ``comparisons`` set to ``ignore`` is never compared."""
        comparisons = news.get("comparisons")
        ignored = set(self.IGNORED)
        if isinstance(comparisons, dict):
            ignored |= {k for k, v in comparisons.items() if v == "ignore"}
        news = {k: v for k, v in news.items() if k not in self.OUTPUTS}
        p = _diff.plan(olds, news, input_keys=self._input_keys(olds), in_place=self.IN_PLACE, ignored=ignored)
        if "networks" in p.replaces and _networks_in_place(olds, news):
            p.replaces.remove("networks")
            p.in_place.append("networks")
        return p

    def _absent(self, eng: Any, props: dict[str, Any]) -> dict[str, Any]:
        spec = {"name": self._name(props)}
        for k in ("keep_volumes", "force_kill", "kill_signal", "removal_wait_timeout"):
            if props.get(k) is not None:
                spec[k] = props[k]
        return eng.apply(self.KIND, spec, state="absent")

    def _outputs(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any]:
        r = resource or {}
        nets = dig(r, "NetworkSettings", "Networks", default={}) or {}
        ports: dict[str, list[dict[str, Any]]] = {}
        for port, binds in (dig(r, "NetworkSettings", "Ports", default={}) or {}).items():
            if binds:
                ports[port] = [{"host_ip": b.get("HostIp", ""), "host_port": int(b.get("HostPort") or 0)}
                               for b in binds]
        return {
            "container_id": r.get("Id"),
            "image_id": r.get("Image"),
            "status": dig(r, "State", "Status"),
            "ip_addresses": {n: v.get("IPAddress") for n, v in nets.items() if isinstance(v, dict)
                             and v.get("IPAddress")},
            "ports": ports,
        }

    def _live_inputs(self, resource: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        live: dict[str, Any] = {}
        rp = dig(resource, "HostConfig", "RestartPolicy", "Name")
        if rp is not None:
            live["restart_policy"] = rp or "no"
        running = bool(dig(resource, "State", "Running"))
        if props.get("state") in ("started", "healthy", "stopped"):
            if props["state"] == "stopped" and running:
                live["state"] = "started"
            elif props["state"] != "stopped" and not running:
                live["state"] = "stopped"
        return live


def _networks_in_place(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """True when the engine can bring the networks in line without recreating the container:
    the same primary (first) network with the same settings, in bridge mode."""
    old, new = olds.get("networks"), news.get("networks")
    if not (isinstance(old, list) and isinstance(new, list) and old and new) or _diff.has_unknown(new):
        return False
    if not all(isinstance(n, dict) for n in old + new) or not _diff.equal(old[0], new[0]):
        return False
    mode = news.get("network_mode")
    return mode in (None, "", new[0].get("name"))


class Container(pulumi.dynamic.Resource, module="berth", name="Container"):
    """A container on a Berth host. Options take community.docker's ``docker_container`` names
    (``published_ports``, ``networks``, ``volumes``, ``restart_policy``, ``memory``...); any other
    option of `berth apply`'s container spec can be passed as a keyword argument."""

    container_id: pulumi.Output[str]
    image_id: pulumi.Output[str]
    status: pulumi.Output[str]
    ip_addresses: pulumi.Output[dict[str, str]]
    ports: pulumi.Output[dict[str, list[dict[str, Any]]]]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[ConnectionArgs],
        image: pulumi.Input[str],
        name: pulumi.Input[str] | None = None,
        engine: pulumi.Input[EngineArgs] | None = None,
        state: pulumi.Input[str] | None = None,
        command: pulumi.Input[Any] | None = None,
        entrypoint: pulumi.Input[list[str]] | None = None,
        env: pulumi.Input[dict[str, str]] | None = None,
        labels: pulumi.Input[dict[str, str]] | None = None,
        published_ports: pulumi.Input[list[str]] | None = None,
        networks: pulumi.Input[list[dict[str, Any]]] | None = None,
        network_mode: pulumi.Input[str] | None = None,
        volumes: pulumi.Input[list[str]] | None = None,
        mounts: pulumi.Input[list[dict[str, Any]]] | None = None,
        restart_policy: pulumi.Input[str] | None = None,
        restart_retries: pulumi.Input[int] | None = None,
        memory: pulumi.Input[Any] | None = None,
        cpus: pulumi.Input[float] | None = None,
        healthcheck: pulumi.Input[dict[str, Any]] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **spec: Any,
    ) -> None:
        props = drop_none({
            "connection": secret_connection(connection), "engine": engine, "name": name or resource_name,
            "image": image, "state": state, "command": command, "entrypoint": entrypoint, "env": env,
            "labels": labels, "published_ports": published_ports, "networks": networks,
            "network_mode": network_mode, "volumes": volumes, "mounts": mounts, "restart_policy": restart_policy,
            "restart_retries": restart_retries, "memory": memory, "cpus": cpus, "healthcheck": healthcheck,
            "adopt": adopt, **spec,
        })
        for out in OUTPUTS:
            props.setdefault(out, None)
        super().__init__(ContainerProvider(), resource_name, props, opts_with_secrets(opts))
