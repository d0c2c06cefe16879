"""Image references, parsed and normalised the way Docker does (the distribution/reference
grammar):

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] path-component ["/" path-component]*
    domain     := host [":" port]
    tag        := [\\w][\\w.-]{0,127}
    digest     := algorithm ":" hex

`busybox` becomes `docker.io/library/busybox:latest`; `familiar()` gives back the short form.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from engine.errors import InvalidArgument

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ANCHORED_NAME_RE = re.compile(rf"^(?:({_DOMAIN})/)?({_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)$")
_TAG_RE = re.compile(rf"^{_TAG}$")
_ID_RE = re.compile(r"^[a-f0-9]{64}$")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


class Reference(NamedTuple):  # immutable; a NamedTuple rather than a dataclass, for start-up time
    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """`docker.io/library/busybox` (no tag, no digest)."""
        return f"{self.domain}/{self.path}"

    @property
    def repository(self) -> str:
        return self.name

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def familiar_name(self) -> str:
        if self.domain == DEFAULT_DOMAIN:
            p = self.path
            if p.startswith(OFFICIAL_PREFIX) and p.count("/") == 1:
                return p[len(OFFICIAL_PREFIX):]
            return p
        return self.name

    def familiar(self) -> str:
        s = self.familiar_name()
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, None, digest)

    @property
    def tag_or_digest(self) -> str:
        return self.digest or self.tag or DEFAULT_TAG


def _bad(s: str, why: str = "") -> InvalidArgument:
    msg = f"invalid reference format: {s!r}"
    if why:
        msg += f": {why}"
    return InvalidArgument(msg, field="reference")


def validate_digest(d: str, what: str = "digest") -> str:
    algo, _, hexpart = d.partition(":")
    want = _DIGEST_LENGTHS.get(algo)
    if want is None:
        raise InvalidArgument(f"unsupported {what} algorithm in {d!r}", field=what)
    if len(hexpart) != want or not re.fullmatch(r"[a-f0-9]+", hexpart):
        raise InvalidArgument(f"invalid {what} {d!r}: want {algo}:<{want} lowercase hex digits>", field=what)
    return d


def _split_domain(name: str) -> tuple[str, str]:
    i = name.find("/")
    if i == -1 or (not any(c in name[:i] for c in ".:") and name[:i] != "localhost"
                   and name[:i].lower() == name[:i]):
        domain, rest = DEFAULT_DOMAIN, name
    else:
        domain, rest = name[:i], name[i + 1:]
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_PREFIX + rest
    return domain, rest


def parse(s: str, default_tag: bool = True) -> Reference:
    """Parse and normalise like `docker pull` does. Adds `:latest` when neither a tag nor a
    digest is given (unless default_tag=False)."""
    if not isinstance(s, str) or not s:
        raise _bad(str(s), "empty reference")
    if _ID_RE.match(s):
        raise _bad(s, "cannot specify 64-byte hexadecimal strings as a repository name")
    m = _REFERENCE_RE.match(s)
    if not m:
        # Docker's special message for an upper-case repository name.
        if _REFERENCE_RE.match(s.lower()):
            name = s.split("@")[0]
            name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
            _d, rest = _split_domain(name)
            if rest.lower() != rest:
                raise _bad(s, f"repository name ({rest}) must be lowercase")
        raise _bad(s)
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    domain, path = _split_domain(name)
    if path.lower() != path:
        raise _bad(s, f"repository name ({path}) must be lowercase")
    if len(name) > NAME_TOTAL_MAX:
        raise _bad(s, f"repository name must not be more than {NAME_TOTAL_MAX} characters")
    if not _ANCHORED_NAME_RE.match(f"{domain}/{path}"):
        raise _bad(s)
    if digest:
        try:
            validate_digest(digest)
        except InvalidArgument as e:
            raise _bad(s, e.message) from None
    if not tag and not digest and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def parse_name(s: str) -> Reference:
    """A repository name only (no tag, no digest), e.g. for `push` targets or filters."""
    r = parse(s, default_tag=False)
    if r.tag or r.digest:
        raise _bad(s, "a repository name without tag or digest is expected here")
    return r


def valid_tag(tag: str) -> bool:
    return bool(_TAG_RE.match(tag))


def is_reference_like(s: str) -> bool:
    try:
        parse(s)
        return True
    except InvalidArgument:
        return False
