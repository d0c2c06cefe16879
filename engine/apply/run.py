"""`berth apply`: validate the envelope, then hand the spec to the kind's reconciler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument

if TYPE_CHECKING:
    from engine.context import Context

API_VERSION = 1
KINDS = ("container", "image", "network", "volume", "login", "exec", "info", "prune")
ENVELOPE = {"api", "kind", "state", "spec", "check", "diff", "options"}
IMAGE_OPERATIONS = ("present", "pull", "push", "tag", "remove", "build", "load", "export")
DEFAULT_STATE = {"container": "started"}


class ApiMismatch(InvalidArgument):
    type = "api_mismatch"


def check_envelope(req: Any) -> dict[str, Any]:
    if not isinstance(req, dict):
        raise InvalidArgument(f"request: a JSON object is expected (got {type(req).__name__})", field="request")
    unknown = sorted(set(req) - ENVELOPE)
    if unknown:
        raise InvalidArgument(f"{unknown[0]}: unknown request key {unknown[0]!r} "
                              f"(known: {', '.join(sorted(ENVELOPE))})", field=unknown[0])
    api = req.get("api")
    if api is None:
        raise ApiMismatch("api: the request has no 'api' version; this engine speaks berth apply API "
                          f"{API_VERSION}", field="api")
    if api != API_VERSION or isinstance(api, bool):
        raise ApiMismatch(
            f"api: this engine speaks berth apply API {API_VERSION}, the request uses {api!r}: upgrade the "
            "Berth engine on this host (apply the role berth.engine.host) so engine and front end match",
            field="api")
    kind = req.get("kind")
    if kind not in KINDS:
        raise InvalidArgument(f"kind: unknown kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
    for key in ("check", "diff"):
        if key in req and not isinstance(req[key], bool):
            raise InvalidArgument(f"{key}: a boolean is expected (got {req[key]!r})", field=key)
    state = req.get("state")
    if state is not None and not isinstance(state, str):
        raise InvalidArgument(f"state: a string is expected (got {state!r})", field="state")
    options = req.get("options") or {}
    if not isinstance(options, dict):
        raise InvalidArgument(f"options: an object is expected (got {options!r})", field="options")
    allowed = {"operation"} if kind == "image" else set()
    for k in options:
        if k not in allowed:
            raise InvalidArgument(f"options.{k}: unknown option {k!r} for kind {kind}", field=f"options.{k}")
    op = options.get("operation", "present")
    if kind == "image" and op not in IMAGE_OPERATIONS:
        raise InvalidArgument(f"options.operation: unknown image operation {op!r} "
                              f"(known: {', '.join(IMAGE_OPERATIONS)})", field="options.operation")
    spec = req.get("spec", {})
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise InvalidArgument(f"spec: an object is expected (got {type(spec).__name__})", field="spec")
    return {"kind": kind, "state": state or DEFAULT_STATE.get(kind, "present"),
            "spec": {k: v for k, v in spec.items() if v is not None},
            "check": bool(req.get("check", False)), "options": options, "operation": op}


def schema_name(kind: str, operation: str) -> str:
    if kind == "image" and operation != "present":
        return f"image_{operation}"
    return kind


def _lock_name(kind: str, spec: dict[str, Any]) -> str | None:
    """Two applies of one resource (parallel Pulumi steps) take turns; different ones don't wait."""
    key = {"container": "name", "network": "name", "volume": "volume_name", "image": "name",
           "login": "registry_url"}.get(kind)
    value = spec.get(key or "") or spec.get("name")
    if not key or not isinstance(value, str):
        return None
    return f"apply-{kind}-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:100]


def _validate(env: dict[str, Any]) -> Any:
    from engine.apply import models

    return models.validate(schema_name(env["kind"], env["operation"]), env["spec"])


def handle(ctx: Context, req: Any) -> dict[str, Any]:
    env = check_envelope(req)
    name = _lock_name(env["kind"], env["spec"])
    if name is None:
        return _dispatch(ctx, env, _validate(env), _edge(ctx, env["kind"]))
    from engine.apply import memo
    from engine.util.lock import locked

    # a request that may have a memo is validated only when the memo cannot answer it
    noop = memo.Memo(ctx, name, req) if memo.eligible(env) else None
    spec = _validate(env) if noop is None else None
    with locked(ctx, name, shared=env["check"]):
        edge = _edge(ctx, env["kind"])
        if noop is None:
            return _dispatch(ctx, env, spec, edge)
        result = noop.lookup(edge)
        if result is None:
            rec = memo.Recorder(edge)
            result = _dispatch(ctx, env, _validate(env), rec)
            noop.keep(rec, result)
        return result


def _edge(ctx: Context, kind: str) -> Any:
    if kind in ("container", "image"):
        from engine.apply.edge import ContainerEdge

        return ContainerEdge(ctx)
    if kind == "network":
        from engine.apply.edge import NetworkEdge

        return NetworkEdge(ctx)
    if kind == "volume":
        from engine.apply.edge import VolumeEdge

        return VolumeEdge(ctx)
    return None


def _dispatch(ctx: Context, env: dict[str, Any], spec: Any, edge: Any) -> dict[str, Any]:
    kind, state, check = env["kind"], env["state"], env["check"]
    if kind == "container":
        from engine.apply.container import reconcile

        return reconcile(edge, spec, state, check)
    if kind == "image":
        from engine.apply import image

        return image.reconcile(edge, env["operation"], spec, state, check)
    if kind == "network":
        from engine.apply import network

        return network.reconcile(edge, spec, state, check)
    if kind == "volume":
        from engine.apply import volume

        return volume.reconcile(edge, spec, state, check)
    if kind == "login":
        from engine.apply import login

        return login.reconcile(ctx, spec, state, check)
    from engine.apply import readers

    return readers.handle(ctx, kind, spec, state, check)
