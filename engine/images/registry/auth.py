"""Registry authentication: `WWW-Authenticate` parsing, bearer tokens (realm, service, scope,
anonymous tokens, reuse per scope) and basic auth. Credentials come from `<root>/auth.json`."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import InvalidArgument, RegistryError
from engine.util.fs import atomic_write_json, read_json
from engine.util.lock import locked

if TYPE_CHECKING:
    from engine.context import Context

DOCKER_HUB_KEY = "https://index.docker.io/v1/"

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# values: a quoted string, or (leniently: some registries send unquoted URLs) anything up to a comma
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]+)\s*(,|$)')


@dataclass
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Parse one `WWW-Authenticate` header value into its challenges (RFC 7235)."""
    out: list[Challenge] = []
    s = value.strip()
    i = 0
    while i < len(s):
        m = re.compile(rf"\s*,?\s*({_TOKEN})").match(s, i)
        if not m:
            break
        scheme = m.group(1).lower()
        i = m.end()
        params: dict[str, str] = {}
        while i < len(s):
            pm = _PARAM_RE.match(s, i)
            if not pm:
                break
            k, v = pm.group(1).lower(), pm.group(2)
            if v.startswith('"'):
                v = re.sub(r"\\(.)", r"\1", v[1:-1])
            params[k] = v
            i = pm.end()
        out.append(Challenge(scheme, params))
    return out


# ---------------------------------------------------------------------------- credentials


def registry_key(domain: str) -> str:
    return DOCKER_HUB_KEY if domain in ("docker.io", "index.docker.io", "registry-1.docker.io") else domain


def _normalise_server(server: str) -> str:
    s = server.strip()
    for p in ("https://", "http://"):
        if s.startswith(p):
            s = s[len(p):]
    s = s.split("/", 1)[0]
    if s in ("index.docker.io", "registry-1.docker.io", "docker.io", ""):
        return "docker.io"
    return s


def load_credentials(ctx: Context, domain: str) -> tuple[str, str] | None:
    doc = read_json(ctx.auth_file, {}) or {}
    auths = doc.get("auths") or {}
    want = _normalise_server(domain)
    for key, entry in auths.items():
        if _normalise_server(key) != want or not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise InvalidArgument(f"{ctx.auth_file}: the 'auth' entry for {key!r} is not valid base64",
                                      field="auth") from None
            return user, pw
        if entry.get("username"):
            return str(entry["username"]), str(entry.get("password", ""))
    return None


def store_credentials(ctx: Context, domain: str, user: str, password: str) -> None:
    with locked(ctx, "auth"):
        doc = read_json(ctx.auth_file, {}) or {}
        auths = doc.setdefault("auths", {})
        want = _normalise_server(domain)
        for k in [k for k in auths if _normalise_server(k) == want]:
            del auths[k]
        auths[registry_key(want)] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        atomic_write_json(ctx.auth_file, doc, mode=0o600)
        os.chmod(ctx.auth_file, 0o600)


def remove_credentials(ctx: Context, domain: str) -> bool:
    with locked(ctx, "auth"):
        doc = read_json(ctx.auth_file, {}) or {}
        auths = doc.get("auths") or {}
        want = _normalise_server(domain)
        gone = [k for k in auths if _normalise_server(k) == want]
        if not gone:
            return False
        for k in gone:
            del auths[k]
        atomic_write_json(ctx.auth_file, doc, mode=0o600)
        return True


def basic_header(creds: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()


# ---------------------------------------------------------------------------- tokens


@dataclass
class Token:
    value: str
    expires: float


class TokenCache:
    """Tokens by (realm, service, scopes): one fetch per scope set, reused until near expiry."""

    def __init__(self) -> None:
        self.tokens: dict[tuple[str, str, tuple[str, ...]], Token] = {}

    def get(self, key: tuple[str, str, tuple[str, ...]]) -> str | None:
        t = self.tokens.get(key)
        if t and t.expires > time.time() + 5:
            return t.value
        return None

    def put(self, key: tuple[str, str, tuple[str, ...]], value: str, expires_in: float) -> None:
        self.tokens[key] = Token(value, time.time() + max(expires_in, 60))


def token_request_url(realm: str, service: str | None, scopes: list[str]) -> str:
    from urllib.parse import urlencode

    q: list[tuple[str, str]] = []
    if service:
        q.append(("service", service))
    for s in scopes:
        q.append(("scope", s))
    sep = "&" if "?" in realm else "?"
    return realm + (sep + urlencode(q) if q else "")


def parse_token_response(body: bytes, realm: str) -> tuple[str, float]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(f"token server {realm}: response is not JSON", field="registry") from None
    tok = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(tok, str) or not tok:
        raise RegistryError(f"token server {realm}: response has no token", field="registry")
    try:
        exp = float(doc.get("expires_in") or 60)
    except (TypeError, ValueError):
        exp = 60.0
    return tok, exp
