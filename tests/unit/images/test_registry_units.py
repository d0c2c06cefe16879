"""WWW-Authenticate parsing, token requests, error mapping, transport rules, manifest checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.context import Context
from engine.errors import InvalidArgument, NotFound, RegistryError
from engine.images import manifests as mf
from engine.images.registry import auth
from engine.images.registry.errors import RetryableError, Unauthorized, from_response
from engine.images.registry.transport import endpoints, is_insecure


@pytest.mark.parametrize("header,expect", [
    ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
     [("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                  "scope": "repository:library/busybox:pull"})]),
    ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})]),
    ('bearer realm=https://x/t, service=svc', [("bearer", {"realm": "https://x/t", "service": "svc"})]),
    ('Bearer realm="a\\"b",error="insufficient_scope"', [("bearer", {"realm": 'a"b', "error": "insufficient_scope"})]),
    ('Basic realm="r", Bearer realm="t",service="s"', [("basic", {"realm": "r"}), ("bearer", {"realm": "t", "service": "s"})]),
    ('Bearer realm="x",scope="repository:a:pull repository:b:pull"',
     [("bearer", {"realm": "x", "scope": "repository:a:pull repository:b:pull"})]),
    ("Negotiate", [("negotiate", {})]),
])
def test_parse_www_authenticate(header, expect):
    got = [(c.scheme, c.params) for c in auth.parse_www_authenticate(header)]
    assert got == expect


def test_token_url_and_response():
    url = auth.token_request_url("https://auth.example/token", "reg", ["repository:a/b:pull,push", "repository:c:pull"])
    assert url == ("https://auth.example/token?service=reg&scope=repository%3Aa%2Fb%3Apull%2Cpush"
                   "&scope=repository%3Ac%3Apull")
    assert auth.token_request_url("https://x/t?a=1", None, []) == "https://x/t?a=1"
    assert auth.parse_token_response(b'{"access_token":"abc","expires_in":300}', "r")[0] == "abc"
    with pytest.raises(RegistryError, match="no token"):
        auth.parse_token_response(b"{}", "r")
    with pytest.raises(RegistryError, match="not JSON"):
        auth.parse_token_response(b"<html>", "r")


def test_token_cache_reuse_and_expiry():
    c = auth.TokenCache()
    k = ("realm", "svc", ("repository:a:pull",))
    assert c.get(k) is None
    c.put(k, "tok", 300)
    assert c.get(k) == "tok"
    assert c.get(("realm", "svc", ("repository:b:pull",))) is None
    c.tokens[k].expires = 0
    assert c.get(k) is None


def test_error_mapping():
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
    e = from_response(404, body, "manifest for x:1")
    assert isinstance(e, NotFound) and "manifest_unknown: manifest unknown" in e.message and "x:1" in e.message
    assert isinstance(from_response(401, b"", "x"), Unauthorized)
    assert isinstance(from_response(403, b"", "x"), Unauthorized)
    assert isinstance(from_response(503, b"", "x"), RetryableError)
    assert isinstance(from_response(429, b"", "x"), RetryableError)
    assert "HTTP 418" in from_response(418, b"", "x").message


def _ctx(tmp_path: Path, cfg: str = "") -> Context:
    (tmp_path / "c.toml").write_text(cfg)
    return Context(root=tmp_path / "root", runroot=tmp_path / "run", config_path=tmp_path / "c.toml")


def test_transport_rules(tmp_path):
    ctx = _ctx(tmp_path, 'insecure_registries = ["reg.lan:5000", "10.1.0.0/16"]\n'
                         'registry_mirrors = ["https://mirror.example", "http://127.0.0.1:5001"]\n')
    assert is_insecure(ctx, "127.0.0.1:5000") and is_insecure(ctx, "127.5.6.7") and is_insecure(ctx, "localhost:1")
    assert is_insecure(ctx, "[::1]:5000")
    assert is_insecure(ctx, "reg.lan:5000") and not is_insecure(ctx, "reg.lan:5001")
    assert is_insecure(ctx, "10.1.2.3:443") and not is_insecure(ctx, "10.2.0.1")
    assert not is_insecure(ctx, "quay.io") and not is_insecure(ctx, "192.168.1.1:5000")
    assert [(e.netloc, e.schemes) for e in endpoints(ctx, "quay.io")] == [("quay.io", ("https",))]
    assert [(e.netloc, e.schemes) for e in endpoints(ctx, "127.0.0.1:5000")] == [("127.0.0.1:5000", ("https", "http"))]
    hub = endpoints(ctx, "docker.io")
    assert [(e.netloc, e.schemes, e.mirror) for e in hub] == [
        ("mirror.example", ("https",), True), ("127.0.0.1:5001", ("http",), True),
        ("registry-1.docker.io", ("https",), False)]
    assert [e.netloc for e in endpoints(ctx, "docker.io", for_push=True)] == ["registry-1.docker.io"]


def test_plain_http_refused_for_remote_hosts(tmp_path):
    from engine.images.registry.client import RegistryClient

    c = RegistryClient(_ctx(tmp_path), "quay.io", "a/b")
    with pytest.raises(RegistryError, match="refusing plain HTTP to quay.io"):
        c._send("GET", "http://quay.io/v2/", {}, None)


def test_credentials_roundtrip(tmp_path):
    ctx = _ctx(tmp_path)
    ctx.root.mkdir()
    assert auth.load_credentials(ctx, "r.example") is None
    auth.store_credentials(ctx, "r.example:5000", "u", "p:w")
    auth.store_credentials(ctx, "docker.io", "hub", "secret")
    doc = json.loads(ctx.auth_file.read_text())
    assert set(doc["auths"]) == {"r.example:5000", "https://index.docker.io/v1/"}
    assert ctx.auth_file.stat().st_mode & 0o777 == 0o600
    assert auth.load_credentials(ctx, "r.example:5000") == ("u", "p:w")
    assert auth.load_credentials(ctx, "docker.io") == ("hub", "secret")
    assert auth.remove_credentials(ctx, "https://r.example:5000/") is True
    assert auth.remove_credentials(ctx, "r.example:5000") is False
    assert auth.load_credentials(ctx, "docker.io") == ("hub", "secret")


def _man(mt=mf.MT_OCI_MANIFEST, layer_mt="application/vnd.oci.image.layer.v1.tar+gzip", **over):
    doc = {"schemaVersion": 2, "mediaType": mt,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "1" * 64, "size": 5},
           "layers": [{"mediaType": layer_mt, "digest": "sha256:" + "2" * 64, "size": 7}]}
    doc.update(over)
    return json.dumps(doc).encode()


def test_manifest_classify():
    assert mf.classify(_man(), mf.MT_OCI_MANIFEST, "x")[:2] == ("manifest", mf.MT_OCI_MANIFEST)
    assert mf.classify(_man(mf.MT_DOCKER_MANIFEST), "application/json", "x")[1] == mf.MT_DOCKER_MANIFEST
    idx = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": mf.MT_OCI_MANIFEST, "digest": "sha256:" + "3" * 64, "size": 1,
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    assert mf.classify(idx, mf.MT_OCI_INDEX, "x")[0] == "index"
    with pytest.raises(RegistryError, match="schema 1 is not supported"):
        mf.classify(b'{"schemaVersion":1}', "application/vnd.docker.distribution.manifest.v1+prettyjws", "x")
    with pytest.raises(RegistryError, match="Content-Type"):
        mf.classify(_man(), mf.MT_OCI_INDEX, "x")
    with pytest.raises(RegistryError, match="unsupported media type"):
        mf.classify(_man(layer_mt="application/vnd.cncf.helm.chart.content.v1.tar+gzip"), "", "x")
    with pytest.raises(RegistryError, match="invalid size"):
        mf.classify(_man(config={"digest": "sha256:" + "1" * 64, "size": -1}), "", "x")
    with pytest.raises(RegistryError, match="not valid JSON"):
        mf.classify(b"nope", "", "img:1")


def test_platform_selection():
    idx = {"manifests": [
        {"mediaType": mf.MT_OCI_MANIFEST, "digest": "a", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        {"mediaType": mf.MT_OCI_MANIFEST, "digest": "b", "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": mf.MT_OCI_MANIFEST, "digest": "c", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": mf.MT_OCI_MANIFEST, "digest": "d", "platform": {"os": "unknown", "architecture": "unknown"}},
    ]}
    assert mf.select_platform(idx, mf.parse_platform("linux/amd64"), "x")["digest"] == "b"
    assert mf.select_platform(idx, mf.parse_platform("linux/arm64"), "x")["digest"] == "c"
    assert mf.select_platform(idx, mf.parse_platform("linux/arm64/v8"), "x")["digest"] == "c"
    assert mf.select_platform(idx, mf.parse_platform("linux/arm/v7"), "x")["digest"] == "a"
    with pytest.raises(RegistryError, match="no matching manifest for linux/s390x.*linux/amd64"):
        mf.select_platform(idx, mf.parse_platform("linux/s390x"), "x")
    with pytest.raises(InvalidArgument, match="'a/b/c/d'"):
        mf.parse_platform("a/b/c/d")
    from engine.images.store import host_platform

    assert mf.parse_platform("linux") == {"os": "linux", "architecture": host_platform()["architecture"]}
    assert mf.parse_platform("arm64") == {"os": "linux", "architecture": "arm64"}
    assert mf.parse_platform("linux/aarch64/v8") == {"os": "linux", "architecture": "arm64", "variant": "v8"}


def test_mirror_fallback_order(tmp_path):
    """A mirror that fails or lacks the image is dropped for the next endpoint; the registry
    itself is never dropped."""
    from engine.images.registry.client import RegistryClient

    ctx = _ctx(tmp_path, 'registry_mirrors = ["http://127.0.0.1:5001", "https://m2.example"]\n')
    c = RegistryClient(ctx, "docker.io", "library/busybox")
    eps = list(c._endpoints)
    assert [e.netloc for e in eps] == ["127.0.0.1:5001", "m2.example", "registry-1.docker.io"]
    c.endpoint, c.base = eps[0], "http://127.0.0.1:5001"  # as if ping had picked the first mirror
    assert c.skip_mirror() is True and c.base is None
    assert [e.netloc for e in c._endpoints] == ["m2.example", "registry-1.docker.io"]
    c.endpoint, c.base = c._endpoints[0], "https://m2.example"
    assert c.skip_mirror() is True
    c.endpoint, c.base = c._endpoints[0], "https://registry-1.docker.io"
    assert c.skip_mirror() is False  # the registry itself: the error stands
