"""The only way the providers act on a host: `berth apply` (JSON request on stdin, JSON result on
stdout) and `berth inspect KIND NAME --json`, run over SSH."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from . import _ssh

API = 1
DEFAULT_COMMAND = "/opt/berth/bin/berth"


class EngineError(Exception):
    """A failed engine call. ``field`` names the offending spec field when the engine said so."""

    def __init__(self, message: str, *, type_: str = "", field: str | None = None, rc: int = 1) -> None:
        super().__init__(message)
        self.type = type_
        self.field = field
        self.rc = rc


@dataclass(frozen=True)
class EngineSpec:
    command: str = DEFAULT_COMMAND
    root: str | None = None
    runroot: str | None = None
    config: str | None = None
    sudo: bool = False

    @classmethod
    def from_input(cls, eng: dict[str, Any] | None) -> EngineSpec:
        eng = eng or {}
        return cls(command=str(eng.get("command") or DEFAULT_COMMAND), root=eng.get("root") or None,
                   runroot=eng.get("runroot") or None, config=eng.get("config") or None,
                   sudo=bool(eng.get("sudo")))

    def argv(self, *args: str) -> str:
        parts = shlex.split(self.command)
        for opt, val in (("--root", self.root), ("--runroot", self.runroot), ("--config", self.config)):
            if val:
                parts += [opt, val]
        parts += list(args)
        cmd = " ".join(shlex.quote(p) for p in parts)
        return f"sudo -n {cmd}" if self.sudo else cmd


class Engine:
    def __init__(self, conn: dict[str, Any] | None, engine: dict[str, Any] | None) -> None:
        self.conn = _ssh.ConnSpec.from_input(conn)
        self.engine = EngineSpec.from_input(engine)

    def _parse(self, res: _ssh.ExecResult, what: str) -> dict[str, Any]:
        try:
            doc = json.loads(res.stdout) if res.stdout.strip() else None
        except json.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            err = doc["error"]
            raise EngineError(str(err.get("message") or err), type_=str(err.get("type") or ""),
                              field=err.get("field"), rc=res.rc)
        if res.rc == 127:
            raise EngineError(f"engine command not found on {self.conn.label}: {self.engine.command!r} "
                              f"(install it with the berth.engine.host role or set engine.command)", rc=127)
        if res.rc != 0 or not isinstance(doc, dict):
            tail = (res.stderr or res.stdout).strip()[-2000:]
            raise EngineError(f"{what} on {self.conn.label} failed (exit {res.rc}): {tail}", rc=res.rc)
        return doc

    def apply(self, kind: str, spec: dict[str, Any], *, state: str = "present", check: bool = False,
              options: dict[str, Any] | None = None) -> dict[str, Any]:
        req = {"api": API, "kind": kind, "state": state, "spec": spec, "check": check, "diff": True,
               "options": options or {}}
        res = _ssh.run(self.conn, self.engine.argv("apply"), json.dumps(req).encode())
        return self._parse(res, f"berth apply {kind}")

    def inspect(self, kind: str, name: str) -> dict[str, Any] | None:
        """Live facts of one object, or None when it does not exist (exit 3)."""
        res = _ssh.run(self.conn, self.engine.argv("inspect", kind, name, "--json"))
        if res.rc == 3:
            return None
        doc = self._parse_inspect(res, f"berth inspect {kind} {name}")
        return doc

    def _parse_inspect(self, res: _ssh.ExecResult, what: str) -> dict[str, Any]:
        try:
            doc = json.loads(res.stdout)
        except json.JSONDecodeError:
            doc = None
        if isinstance(doc, list):  # docker-style inspect prints a list
            doc = doc[0] if doc else None
        if isinstance(doc, dict) and "error" in doc and isinstance(doc["error"], dict):
            return self._parse(res, what)
        if res.rc != 0 or not isinstance(doc, dict):
            return self._parse(res, what)
        return doc

    def run(self, command: str, stdin: bytes | None = None) -> _ssh.ExecResult:
        return _ssh.run(self.conn, command, stdin)

    def upload(self, fileobj: Any, remote_path: str) -> None:
        _ssh.upload(self.conn, fileobj, remote_path)
