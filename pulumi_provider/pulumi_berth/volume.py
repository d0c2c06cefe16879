"""`Volume`: a named local volume on a Berth host (`berth apply` kind `volume`)."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
import pulumi.dynamic

from ._base import BerthProvider
from ._common import ConnectionArgs, EngineArgs, drop_none, opts_with_secrets, secret_connection

OUTPUTS = frozenset({"mountpoint", "driver_name"})


class VolumeProvider(BerthProvider):
    KIND: ClassVar[str] = "volume"
    NAME_KEY: ClassVar[str] = "volume_name"
    IN_PLACE = frozenset({"recreate"})
    STATE_ONLY = frozenset({"recreate"})
    OUTPUTS = OUTPUTS

    def _outputs(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any]:
        r = resource or {}
        return {"mountpoint": r.get("Mountpoint"), "driver_name": r.get("Driver")}

    def _id(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> str:
        return str((resource or {}).get("Name") or self._name(props))


class Volume(pulumi.dynamic.Resource, module="berth", name="Volume"):
    """A volume. Options take community.docker's ``docker_volume`` names (``volume_name``,
    ``driver``, ``driver_options`` {type, o, device}, ``labels``)."""

    mountpoint: pulumi.Output[str]
    driver_name: pulumi.Output[str]
    volume_name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[ConnectionArgs],
        volume_name: pulumi.Input[str] | None = None,
        engine: pulumi.Input[EngineArgs] | None = None,
        driver: pulumi.Input[str] | None = None,
        driver_options: pulumi.Input[dict[str, str]] | None = None,
        labels: pulumi.Input[dict[str, str]] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **spec: Any,
    ) -> None:
        props = drop_none({
            "connection": secret_connection(connection), "engine": engine,
            "volume_name": volume_name or resource_name, "driver": driver, "driver_options": driver_options,
            "labels": labels, "adopt": adopt, **spec,
        })
        for out in OUTPUTS:
            props.setdefault(out, None)
        super().__init__(VolumeProvider(), resource_name, props, opts_with_secrets(opts))
