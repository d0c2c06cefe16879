"""Registry errors, mapped once from the HTTP status and the distribution error body."""

from __future__ import annotations

import json

from engine.errors import NotFound, RegistryError

_STATUS_TEXT = {
    400: "bad request",
    401: "unauthorized: authentication required",
    403: "denied: requested access to the resource is denied",
    404: "not found",
    405: "unsupported operation",
    416: "requested range not satisfiable",
    429: "toomanyrequests: too many requests",
}


class RegistryNotFound(NotFound):
    type = "not_found"


class Unauthorized(RegistryError):
    pass


class RetryableError(RegistryError):
    """A transient failure (5xx, connection reset): the caller may retry."""


def _describe(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    errs = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errs, list):
        return ""
    parts = []
    for e in errs[:3]:
        if isinstance(e, dict):
            code = str(e.get("code", "")).lower()
            msg = str(e.get("message", ""))
            parts.append(f"{code}: {msg}" if code else msg)
    return "; ".join(parts)


def from_response(status: int, body: bytes, what: str) -> RegistryError | NotFound:
    """The one place HTTP statuses become Berth errors. `what` names the object asked for."""
    detail = _describe(body) or _STATUS_TEXT.get(status, f"HTTP {status}")
    msg = f"{what}: {detail}"
    if status == 404:
        return RegistryNotFound(msg, field="image")
    if status in (401, 403):
        return Unauthorized(msg, field="registry")
    if status == 429 or status >= 500:
        return RetryableError(msg, field="registry")
    return RegistryError(msg, field="registry")
