"""The request loop: one keep-alive connection per thread and host, redirects, auth
challenges (bearer tokens reused per scope, basic), and error mapping."""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from engine import __version__
from engine.errors import RegistryError
from engine.images.registry import auth as authmod
from engine.images.registry.errors import RetryableError, Unauthorized, from_response
from engine.images.registry.transport import Endpoint, endpoints, is_insecure, ssl_context

if TYPE_CHECKING:
    from engine.context import Context

USER_AGENT = f"berth/{__version__}"
TIMEOUT = 60.0
_TOKENS = authmod.TokenCache()
_TOKENS_LOCK = threading.Lock()

Body = bytes | Callable[[], IO[bytes]] | None


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes = b""
    raw: http.client.HTTPResponse | None = None
    url: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default) or default

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()


def abort(r: http.client.HTTPResponse) -> None:
    """Close a response that was not read to its end, and its connection with it (the unread
    rest of the body would otherwise be taken for the next response)."""
    r.close()
    conn = getattr(r, "_berth_conn", None)
    if conn is not None:
        conn.close()


class RegistryClient:
    """Talks to one repository of one registry."""

    def __init__(self, ctx: Context, domain: str, repo: str, actions: tuple[str, ...] = ("pull",),
                 creds: tuple[str, str] | None = None, use_stored_creds: bool = True) -> None:
        self.ctx = ctx
        self.domain = domain
        self.repo = repo
        self.scopes = [f"repository:{repo}:{','.join(actions)}"]
        self.creds = creds if creds is not None else (
            authmod.load_credentials(ctx, domain) if use_stored_creds else None)
        self._endpoints = endpoints(ctx, domain, for_push="push" in actions)
        self.base: str | None = None  # "scheme://netloc" chosen by ping()
        self.endpoint: Endpoint | None = None
        self.challenge: authmod.Challenge | None = None
        self._local = threading.local()
        self._ping_lock = threading.Lock()
        self._all_conns: list[http.client.HTTPConnection] = []  # every thread's, for close()
        self._all_lock = threading.Lock()

    # ------------------------------------------------------------------ connections
    def _conns(self) -> dict[tuple[str, str], http.client.HTTPConnection]:
        c = getattr(self._local, "conns", None)
        if c is None:
            c = self._local.conns = {}
        return c

    def _conn(self, scheme: str, netloc: str, fresh: bool = False) -> http.client.HTTPConnection:
        conns = self._conns()
        key = (scheme, netloc)
        if fresh and key in conns:
            conns.pop(key).close()
        c = conns.get(key)
        if c is None:
            if scheme == "https":
                verify = not is_insecure(self.ctx, netloc)
                c = http.client.HTTPSConnection(netloc, timeout=TIMEOUT, context=ssl_context(netloc, verify))
            elif scheme == "http":
                c = http.client.HTTPConnection(netloc, timeout=TIMEOUT)
            else:
                raise RegistryError(f"unsupported URL scheme {scheme!r} from registry {self.domain}", field="registry")
            conns[key] = c
            with self._all_lock:
                self._all_conns.append(c)
        return c

    def close(self) -> None:
        with self._all_lock:
            conns, self._all_conns = self._all_conns, []
        for c in conns:
            c.close()
        self._conns().clear()

    def _send(self, method: str, url: str, headers: dict[str, str], body: Body) -> http.client.HTTPResponse:
        u = urlsplit(url)
        if u.scheme == "http" and not is_insecure(self.ctx, u.netloc):
            raise RegistryError(f"refusing plain HTTP to {u.netloc}: not a loopback address and not in "
                                f"insecure_registries", field="registry")
        path = u.path + ("?" + u.query if u.query else "")
        h = {"User-Agent": USER_AGENT, **headers}
        for attempt in range(2):
            conn = self._conn(u.scheme, u.netloc, fresh=attempt > 0)
            data: Any = body() if callable(body) else body
            if data is None and method in ("PUT", "POST", "PATCH"):
                h.setdefault("Content-Length", "0")
            try:
                conn.request(method, path, body=data, headers=h)
                resp = conn.getresponse()
                resp._berth_conn = conn  # type: ignore[attr-defined]
                return resp
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady) as e:
                conn.close()
                if attempt == 1:
                    raise RetryableError(f"registry {u.netloc}: connection lost: {e}", field="registry") from None
            except ssl.SSLError:
                conn.close()
                raise
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise RetryableError(f"registry {u.netloc}: {e}", field="registry") from None
            finally:
                if callable(body) and hasattr(data, "close"):
                    data.close()
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ ping / auth
    def ping(self) -> None:
        """GET /v2/ on each endpoint in turn: picks scheme and learns the auth challenge."""
        if self.base is not None:
            return
        with self._ping_lock:
            if self.base is not None:
                return
            errors = []
            for ep in self._endpoints:
                for scheme in ep.schemes:
                    url = f"{scheme}://{ep.netloc}/v2/"
                    self.endpoint = ep
                    try:
                        r = self._send("GET", url, {}, None)
                        r.read()
                    except (ssl.SSLError, RetryableError, OSError) as e:
                        errors.append(f"{url}: {e}")
                        continue
                    if r.status == 401:
                        self.challenge = self._pick_challenge(r.headers.get_all("WWW-Authenticate") or [])
                    elif r.status != 200:
                        errors.append(f"{url}: HTTP {r.status}")
                        continue
                    self.base = f"{scheme}://{ep.netloc}"
                    return
            msg = f"registry {self.domain} is unreachable: " + "; ".join(errors)
            secure = not any(is_insecure(self.ctx, ep.netloc) for ep in self._endpoints)
            if secure and any("CERTIFICATE_VERIFY_FAILED" in e or "certificate verify failed" in e for e in errors):
                msg += (f" (its certificate is not trusted: add its CA to the system's CAs or to "
                        f"/etc/berth/certs.d/<host:port>/ca.crt, or list it in insecure_registries in "
                        f"{self.ctx.config_path})")
            elif secure and any("SSL" in e for e in errors):
                msg += (f" (HTTPS failed; if it serves plain HTTP, add it to insecure_registries in "
                        f"{self.ctx.config_path})")
            raise RegistryError(msg, field="registry")

    def skip_mirror(self) -> bool:
        """When the endpoint in use is a mirror, drop it and use the next endpoint (the mirror
        lacked the image or failed). False when there is nothing to fall back to."""
        if self.endpoint is None or not self.endpoint.mirror or self.base is None:
            return False
        self._endpoints = [e for e in self._endpoints if e != self.endpoint]
        self.base, self.endpoint, self.challenge = None, None, None
        return bool(self._endpoints)

    @staticmethod
    def _pick_challenge(values: list[str]) -> authmod.Challenge | None:
        chs = [c for v in values for c in authmod.parse_www_authenticate(v)]
        for want in ("bearer", "basic"):
            for c in chs:
                if c.scheme == want:
                    return c
        return None

    def _token(self, ch: authmod.Challenge, scopes: list[str], force: bool = False) -> str:
        realm = ch.params.get("realm")
        if not realm:
            raise RegistryError(f"registry {self.domain}: bearer challenge without a realm", field="registry")
        service = ch.params.get("service", "")
        key = (realm, service + "|" + (self.creds[0] if self.creds else ""), tuple(sorted(scopes)))
        with _TOKENS_LOCK:
            tok = None if force else _TOKENS.get(key)
            if tok:
                return tok
            url = authmod.token_request_url(realm, service or None, scopes)
            headers = {"Accept": "application/json"}
            if self.creds:
                headers["Authorization"] = authmod.basic_header(self.creds)
            u = urlsplit(url)
            if u.scheme not in ("https", "http"):
                raise RegistryError(f"registry {self.domain}: token realm {realm!r} is not an http(s) URL",
                                    field="registry")
            r = self._send("GET", url, headers, None)
            body = r.read()
            if r.status in (401, 403):
                who = f"user {self.creds[0]!r}" if self.creds else "anonymous access"
                raise Unauthorized(f"registry {self.domain}: token server refused {who} "
                                   f"(HTTP {r.status}; wrong username or password?)", field="registry")
            if r.status != 200:
                raise from_response(r.status, body, f"token server {realm}")
            tok, exp = authmod.parse_token_response(body, realm)
            _TOKENS.put(key, tok, exp)
            return tok

    def _auth_header(self, scopes: list[str], force: bool = False) -> str | None:
        ch = self.challenge
        if ch is None:
            return None
        if ch.scheme == "bearer":
            return "Bearer " + self._token(ch, scopes, force)
        if ch.scheme == "basic" and self.creds:
            return authmod.basic_header(self.creds)
        return None

    # ------------------------------------------------------------------ requests
    def url(self, path: str) -> str:
        self.ping()
        assert self.base is not None
        return self.base + path

    def request(self, method: str, path_or_url: str, headers: dict[str, str] | None = None, body: Body = None,
                *, stream: bool = False, what: str = "", ok: tuple[int, ...] = (200,),
                extra_scopes: list[str] | None = None) -> Response:
        """Send a request with auth and redirects. Statuses outside `ok` raise the mapped error
        (404 included, unless listed in ok)."""
        self.ping()
        assert self.base is not None
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        scopes = self.scopes + list(extra_scopes or [])
        reg_netloc = urlsplit(self.base).netloc
        auth_retry = False
        for _hop in range(8):
            h = dict(headers or {})
            same_host = urlsplit(url).netloc == reg_netloc
            if same_host:
                a = self._auth_header(scopes, force=auth_retry)
                if a:
                    h["Authorization"] = a
            r = self._send(method, url, h, body)
            if r.status == 401 and same_host and not auth_retry:
                ch = self._pick_challenge(r.headers.get_all("WWW-Authenticate") or [])
                r.read()
                if ch is not None:
                    self.challenge = ch
                    extra = ch.params.get("scope")
                    if extra:
                        for s in extra.split(" "):
                            if s and s not in scopes:
                                scopes.append(s)
                    auth_retry = True
                    continue
                raise from_response(401, b"", what or f"{method} {url}")
            if r.status in (301, 302, 303, 307, 308) and r.getheader("Location"):
                r.read()
                url = urljoin(url, r.getheader("Location") or "")
                if r.status == 303:
                    method, body = "GET", None
                continue
            if r.status in ok:
                if stream:
                    return Response(r.status, r.headers, raw=r, url=url)
                return Response(r.status, r.headers, body=r.read(), url=url)
            body_bytes = r.read(64 * 1024)
            abort(r)
            raise from_response(r.status, body_bytes, what or f"{method} {url}")
        raise RegistryError(f"{what or url}: too many redirects", field="registry")
