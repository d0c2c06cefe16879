"""`Network`: a user-defined bridge network on a Berth host (`berth apply` kind `network`)."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pulumi.dynamic

from ._base import BerthProvider
from ._common import ConnectionArgs, EngineArgs, dig, drop_none, opts_with_secrets, secret_connection

# behaviour options of the network kind: membership is managed by the containers' `networks`
BEHAVIOUR = frozenset({"connected", "appends", "force"})
OUTPUTS = frozenset({"network_id", "subnet", "gateway"})


class NetworkProvider(BerthProvider):
    KIND: ClassVar[str] = "network"
    IN_PLACE = BEHAVIOUR  # any other change recreates the network (docs/apply.md)
    STATE_ONLY = BEHAVIOUR
    OUTPUTS = OUTPUTS

    def _absent(self, eng: Any, props: dict[str, Any]) -> dict[str, Any]:
        spec = {"name": self._name(props)}
        if props.get("force") is not None:
            spec["force"] = props["force"]
        return eng.apply(self.KIND, spec, state="absent")

    def _outputs(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any]:
        r = resource or {}
        return {"network_id": r.get("Id"), "subnet": dig(r, "IPAM", "Config", 0, "Subnet"),
                "gateway": dig(r, "IPAM", "Config", 0, "Gateway")}


class Network(pulumi.dynamic.Resource, module="berth", name="Network"):
    """A bridge network. Options take community.docker's ``docker_network`` names
    (``driver``, ``ipam_config`` [{subnet, gateway, iprange, aux_addresses}], ``internal``,
    ``labels``, ``driver_options``...)."""

    network_id: pulumi.Output[str]
    subnet: pulumi.Output[str]
    gateway: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[ConnectionArgs],
        name: pulumi.Input[str] | None = None,
        engine: pulumi.Input[EngineArgs] | None = None,
        driver: pulumi.Input[str] | None = None,
        ipam_config: pulumi.Input[list[dict[str, Any]]] | None = None,
        internal: pulumi.Input[bool] | None = None,
        labels: pulumi.Input[dict[str, str]] | None = None,
        driver_options: pulumi.Input[dict[str, str]] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **spec: Any,
    ) -> None:
        props = drop_none({
            "connection": secret_connection(connection), "engine": engine, "name": name or resource_name,
            "driver": driver, "ipam_config": ipam_config, "internal": internal, "labels": labels,
            "driver_options": driver_options, "adopt": adopt, **spec,
        })
        for out in OUTPUTS:
            props.setdefault(out, None)
        super().__init__(NetworkProvider(), resource_name, props, opts_with_secrets(opts))
