"""Pydantic models of every kind's `spec` (imported only by `berth apply` and `berth schema`).

`extra="forbid"` everywhere: an unknown option is refused by name. The container model is
derived from the option table in container_options.py, so an option is declared once.
"""

from __future__ import annotations

import os
from typing import Any, Literal

# Start-up is paid per call: skip pydantic's plugin discovery (importlib.metadata scan).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from engine.apply import container_options as co
from engine.errors import InvalidArgument


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, coerce_numbers_to_str=True)


# ------------------------------------------------------------------------------ container
class HealthcheckSpec(Spec):
    test: str | list[str] | None = None
    interval: int | float | str | None = None
    timeout: int | float | str | None = None
    retries: int | None = None
    start_period: int | float | str | None = None
    start_interval: int | float | str | None = None


class NetworkAttachment(Spec):
    name: str
    aliases: list[str] | None = None
    ipv4_address: str | None = None
    mac_address: str | None = None


class MountSpec(Spec):
    target: str
    source: str | None = None
    type: Literal["bind", "volume", "tmpfs"] = "volume"
    read_only: bool | None = None
    propagation: Literal["private", "rprivate", "shared", "rshared", "slave", "rslave"] | None = None
    no_copy: bool | None = None
    labels: dict[str, Any] | None = None
    volume_driver: Literal["local"] | None = None
    volume_options: dict[str, Any] | None = None
    tmpfs_size: int | str | None = None
    tmpfs_mode: int | str | None = None
    consistency: Literal["default", "consistent", "cached", "delegated"] | None = None


_NESTED = {"healthcheck": HealthcheckSpec, "networks": list[NetworkAttachment], "mounts": list[MountSpec]}


def _container_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": (str, Field(description="container name")),
        "image": (str | None, Field(None, description="image reference; required to create")),
    }
    for name, typ in co.BEHAVIOUR.items():
        if name not in fields:
            fields[name] = (typ | None, None)
    for o in co.OPTIONS:
        typ = _NESTED.get(o.name, o.type)
        desc = o.help or (f"maps to {o.path}" if o.path else "")
        if o.updatable:
            desc += " (updated in place)"
        fields[o.name] = (typ | None, Field(None, description=desc.strip() or None))
    return fields


ContainerSpec = create_model("ContainerSpec", __base__=Spec, **_container_fields())


# ------------------------------------------------------------------------------ images
class BuildSpec(Spec):
    path: str
    dockerfile: str | None = None
    args: dict[str, Any] | None = None
    target: str | None = None
    nocache: bool | None = None
    pull: bool | None = None
    labels: dict[str, Any] | None = None
    network: str | None = None
    etc_hosts: dict[str, str] | None = None
    shm_size: int | str | None = None
    cache_from: list[str] | None = None
    platform: str | None = None


class ImageSpec(Spec):
    name: str
    tag: str | None = None
    source: Literal["pull", "build", "load", "local"] | None = None
    build: BuildSpec | None = None
    push: bool = False
    repository: str | None = None
    force_source: bool = False
    force_tag: bool = False
    force_absent: bool = False
    archive_path: str | None = None
    load_path: str | None = None
    pull: dict[str, Any] | None = None  # docker_image's pull: {platform}


class ImagePullSpec(Spec):
    name: str
    tag: str | None = None
    platform: str | None = None
    pull: Literal["always", "not_present"] = "always"


class ImagePushSpec(Spec):
    name: str
    tag: str | None = None


class ImageTagSpec(Spec):
    name: str
    tag: str | None = None
    repository: list[str]
    existing_tags: Literal["keep", "overwrite"] = "overwrite"


class ImageRemoveSpec(Spec):
    name: str
    tag: str | None = None
    force: bool = False
    prune: bool = True


class ImageBuildSpec(Spec):
    name: str
    tag: str | None = None
    path: str
    dockerfile: str | None = None
    args: dict[str, Any] | None = None
    target: str | None = None
    nocache: bool = False
    pull: bool = False
    labels: dict[str, Any] | None = None
    network: str | None = None
    etc_hosts: dict[str, str] | None = None
    shm_size: int | str | None = None
    cache_from: list[str] | None = None
    platform: str | None = None
    rebuild: Literal["never", "always"] = "never"


class ImageLoadSpec(Spec):
    path: str


class ImageExportSpec(Spec):
    names: list[str]
    tag: str | None = None
    path: str
    force: bool = False


# ------------------------------------------------------------------------------ networks, volumes
class IpamConfig(Spec):
    subnet: str | None = None
    gateway: str | None = None
    iprange: str | None = None
    aux_addresses: dict[str, str] | None = None


class NetworkSpec(Spec):
    name: str
    driver: str | None = None
    driver_options: dict[str, Any] | None = None
    ipam_driver: str | None = None
    ipam_driver_options: dict[str, Any] | None = None
    ipam_config: list[IpamConfig] | None = None
    internal: bool | None = None
    enable_ipv6: bool | None = None
    attachable: bool | None = None
    scope: Literal["local"] | None = None
    labels: dict[str, Any] | None = None
    connected: list[str] | None = None
    appends: bool = False
    force: bool = False


class VolumeSpec(Spec):
    volume_name: str | None = None
    name: str | None = None
    driver: str | None = None
    driver_options: dict[str, Any] | None = None
    labels: dict[str, Any] | None = None
    recreate: Literal["never", "options-changed", "always"] = "never"


class LoginSpec(Spec):
    registry_url: str = "https://index.docker.io/v1/"
    username: str | None = None
    password: str | None = Field(None, json_schema_extra={"writeOnly": True})
    reauthorize: bool = False


# ------------------------------------------------------------------------------ exec, info, prune
class ExecSpec(Spec):
    container: str
    command: str | None = None
    argv: list[str] | None = None
    env: dict[str, Any] | None = None
    user: str | None = None
    chdir: str | None = None
    stdin: str | None = None
    stdin_add_newline: bool = True
    strip_empty_ends: bool = True
    detach: bool = False
    tty: bool = False


class InfoSpec(Spec):
    type: Literal["container", "image", "network", "volume", "host"]
    name: str | None = None
    names: list[str] | None = None
    containers: bool = False
    containers_all: bool = False
    images: bool = False
    networks: bool = False
    volumes: bool = False


class PruneSpec(Spec):
    containers: bool = False
    containers_filters: dict[str, Any] | None = None
    images: bool = False
    images_filters: dict[str, Any] | None = None
    networks: bool = False
    networks_filters: dict[str, Any] | None = None
    volumes: bool = False
    volumes_filters: dict[str, Any] | None = None
    builder_cache: bool = False


SPECS: dict[str, type[BaseModel]] = {
    "container": ContainerSpec,
    "image": ImageSpec,
    "image_pull": ImagePullSpec,
    "image_push": ImagePushSpec,
    "image_tag": ImageTagSpec,
    "image_remove": ImageRemoveSpec,
    "image_build": ImageBuildSpec,
    "image_load": ImageLoadSpec,
    "image_export": ImageExportSpec,
    "network": NetworkSpec,
    "volume": VolumeSpec,
    "login": LoginSpec,
    "exec": ExecSpec,
    "info": InfoSpec,
    "prune": PruneSpec,
}
SECRET_FIELDS = {"password"}


def _where(loc: tuple) -> str:
    return ".".join(str(x) for x in loc)


def to_invalid(e: ValidationError, schema: str, prefix: str = "spec") -> InvalidArgument:
    """The first validation error as an InvalidArgument naming the field and the value."""
    errors = e.errors(include_url=False)
    err = errors[0]
    raw = tuple(err.get("loc") or ())
    if err["type"] == "extra_forbidden" and raw:
        loc = _trim(SPECS[schema], raw[:-1]) + raw[-1:]
    else:
        loc = _trim(SPECS[schema], raw)
    field = _where((prefix, *loc)) if loc else prefix
    last = str(loc[-1]) if loc else ""
    if err["type"] == "extra_forbidden":
        if schema == "container" and len(loc) == 1 and last in co.UNSUPPORTED:
            msg = f"{field}: option {last!r} of docker_container is not supported by Berth"
        else:
            import difflib

            known = sorted(_known_fields(SPECS[schema], loc[:-1]))
            close = difflib.get_close_matches(last, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"{field}: unknown option {last!r} for kind {schema}{hint}; not supported by Berth"
        return InvalidArgument(msg, field=field)
    if err["type"] == "missing":
        return InvalidArgument(f"{field}: required option {last!r} is missing", field=field)
    msgs = [x["msg"] for x in errors if _trim(SPECS[schema], tuple(x.get("loc") or ())) == loc]
    msg = "; or ".join(dict.fromkeys(msgs))
    if any(str(x) in SECRET_FIELDS for x in loc):
        return InvalidArgument(f"{field}: invalid value: {msg}", field=field)
    return InvalidArgument(f"{field}: invalid value {err.get('input')!r}: {msg}", field=field)


def _trim(model: type[BaseModel], loc: tuple) -> tuple:
    """Drop pydantic's union-member tags (`bool`, `literal[...]`) from an error location."""
    out: list = []
    cur: Any = model
    for part in loc:
        if isinstance(part, int):
            out.append(part)
            continue
        fields = getattr(cur, "model_fields", None)
        if not fields or part not in fields:
            if fields or _is_type_tag(str(part)):
                break
            out.append(part)  # a free-form dict key
            continue
        out.append(part)
        cur = _model_in(fields[part].annotation)
    return tuple(out)


def _known_fields(model: type[BaseModel], loc: tuple) -> set[str]:
    cur: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        f = getattr(cur, "model_fields", {}).get(part)
        if f is None:
            return set()
        cur = _model_in(f.annotation)
    return set(getattr(cur, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for a in typing.get_args(annotation):
        m = _model_in(a)
        if m is not None:
            return m
    return None


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "is-instance", "literal", "model"}


def _is_type_tag(part: str) -> bool:
    return "[" in part or part.lower() in _TYPE_TAGS or part.endswith("Spec") or part.startswith("function")


def validate(schema: str, spec: Any, prefix: str = "spec") -> BaseModel:
    model = SPECS[schema]
    if not isinstance(spec, dict):
        raise InvalidArgument(f"{prefix}: an object is expected (got {type(spec).__name__})", field=prefix)
    try:
        return model.model_validate(spec)
    except ValidationError as e:
        raise to_invalid(e, schema, prefix) from None


def json_schema(schema: str) -> dict:
    s = SPECS[schema].model_json_schema()
    s["$id"] = f"https://berth.invalid/schemas/{schema}.json"
    s["title"] = f"berth apply spec: {schema}"
    return s
