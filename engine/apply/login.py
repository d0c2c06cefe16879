"""kind `login` (docker_login). The password never leaves this module: not in the diff, the
resource, an error message or a warning."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from engine.apply.compare import DifferenceTracker
from engine.errors import InvalidArgument

if TYPE_CHECKING:
    from engine.context import Context

DOCKER_HUB_KEYS = {"docker.io", "index.docker.io", "registry-1.docker.io"}


def registry_host(url: str) -> str:
    """`https://index.docker.io/v1/` → `docker.io`; `http://127.0.0.1:5000/` → `127.0.0.1:5000`."""
    s = url.strip()
    if "://" in s:
        s = s.split("://", 1)[1]
    s = s.split("/", 1)[0].lower()
    return "docker.io" if s in DOCKER_HUB_KEYS else s


def stored(ctx: Context) -> dict[str, tuple[str, str]]:
    """registry host → (username, password) from <root>/auth.json (Docker's auths format)."""
    try:
        data = json.loads(ctx.auth_file.read_text())
    except (OSError, ValueError):
        return {}
    out = {}
    for key, entry in (data.get("auths") or {}).items():
        auth = (entry or {}).get("auth")
        if not auth:
            continue
        try:
            user, _, pw = base64.b64decode(auth).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            continue
        out[registry_host(key)] = (user, pw)
    return out


def _facts(host: str, user: str) -> dict[str, str]:
    return {"registry": host, "username": user}


# The read side (`berth inspect login REGISTRY`, `berth ls login`): the registry and the user,
# never the password.
def inspect(ctx: Context, name: str) -> dict[str, str]:
    from engine.errors import NotFound

    host = registry_host(name)
    have = stored(ctx).get(host)
    if have is None:
        raise NotFound(f"no login for registry {name!r}")
    return _facts(host, have[0])


def list_all(ctx: Context) -> list[dict[str, str]]:
    return [_facts(host, user) for host, (user, _pw) in sorted(stored(ctx).items())]


def reconcile(ctx: Context, spec: Any, state: str, check: bool, edge: Any = None) -> dict[str, Any]:
    if state not in ("present", "absent"):
        raise InvalidArgument(f"state: invalid login state {state!r} (present, absent)", field="state")
    if edge is None:
        from engine.apply.edge import ImageEdge

        edge = ImageEdge(ctx)
    host = registry_host(spec.registry_url)
    if not host:
        raise InvalidArgument(f"spec.registry_url: invalid value {spec.registry_url!r}", field="spec.registry_url")
    have = stored(ctx).get(host)
    actions: list[str] = []
    diff = DifferenceTracker()
    if state == "absent":
        if have:
            actions.append(f"logged out {host}")
            diff.add("username", have[0], None)
            if not check:
                edge.logout(host)
        return _res(actions, diff, None)
    if not spec.username or spec.password is None:
        missing = "username" if not spec.username else "password"
        raise InvalidArgument(f"spec.{missing}: required to log in to {host}", field=f"spec.{missing}")
    if have is None or have != (spec.username, spec.password) or spec.reauthorize:
        actions.append(f"logged in {host}")
        if have is None or have[0] != spec.username:
            diff.add("username", have[0] if have else None, spec.username)
        elif have[1] != spec.password:
            diff.add("password", "(hidden)", "(changed)")
        if not check:
            edge.login(host, spec.username, spec.password)
    return _res(actions, diff, _facts(host, spec.username))


def _res(actions: list[str], diff: DifferenceTracker, resource: Any) -> dict[str, Any]:
    return {"changed": bool(actions), "actions": actions, "diff": diff.as_diff(), "resource": resource,
            "warnings": []}
