"""Error types shared by the whole engine.

Every error carries a message that names the offending field and value, an optional
`field`, and the exit code the CLI uses: 1 for a failed operation, 2 for invalid input,
3 for "no such object" (inspect).
"""

from __future__ import annotations


class BerthError(Exception):
    exit_code = 1
    type = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict:
        err: dict = {"type": self.type, "message": self.message}
        if self.field:
            err["field"] = self.field
        return {"error": err}


class InvalidArgument(BerthError):
    """Bad input from the user: exit 2, nothing changed."""

    exit_code = 2
    type = "invalid"


class NotFound(BerthError):
    exit_code = 3
    type = "not_found"


class Conflict(BerthError):
    """The operation clashes with existing state (name in use, object in use...)."""

    type = "conflict"


class RegistryError(BerthError):
    type = "registry"


class RuntimeFailure(BerthError):
    """runc, conmon, mount or netlink failed."""

    type = "runtime"
