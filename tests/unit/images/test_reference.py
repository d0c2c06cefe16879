from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.images.reference import parse

D = "sha256:" + "a" * 64


@pytest.mark.parametrize("s,full,familiar", [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"),
    ("user/repo", "docker.io/user/repo:latest", "user/repo:latest"),
    ("localhost/foo", "localhost/foo:latest", "localhost/foo:latest"),
    ("localhost:5000/foo/bar:tag", "localhost:5000/foo/bar:tag", "localhost:5000/foo/bar:tag"),
    ("127.0.0.1:5000/a", "127.0.0.1:5000/a:latest", "127.0.0.1:5000/a:latest"),
    ("quay.io/org/img:v1.2.3", "quay.io/org/img:v1.2.3", "quay.io/org/img:v1.2.3"),
    ("Example.com/img", "Example.com/img:latest", "Example.com/img:latest"),
    ("[::1]:5000/img", "[::1]:5000/img:latest", "[::1]:5000/img:latest"),
    (f"busybox@{D}", f"docker.io/library/busybox@{D}", f"busybox@{D}"),
    (f"busybox:1@{D}", f"docker.io/library/busybox:1@{D}", f"busybox:1@{D}"),
    ("a/b__c/d-e.f_g:T_a-g.1", "docker.io/a/b__c/d-e.f_g:T_a-g.1", "a/b__c/d-e.f_g:T_a-g.1"),
    ("foo/library/bar", "docker.io/foo/library/bar:latest", "foo/library/bar:latest"),
    ("library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
])
def test_valid(s, full, familiar):
    r = parse(s)
    assert str(r) == full
    assert r.familiar() == familiar


def test_fields():
    r = parse("localhost:5000/foo/bar:tag")
    assert (r.domain, r.path, r.tag, r.digest) == ("localhost:5000", "foo/bar", "tag", None)
    r = parse("ubuntu")
    assert (r.domain, r.path, r.tag) == ("docker.io", "library/ubuntu", "latest")


@pytest.mark.parametrize("s,why", [
    ("", "empty"),
    ("Busybox", "must be lowercase"),
    ("docker.io/Library/busybox", "must be lowercase"),
    ("busybox:", ""),
    ("busybox:-tag", ""),
    ("busybox:" + "a" * 129, ""),
    ("-busybox", ""),
    ("busy..box", ""),
    ("busybox@sha256:abc", ""),
    ("busybox@md5:" + "a" * 32, "unsupported digest"),
    ("busybox@sha256:" + "A" * 64, ""),
    ("a" * 64, "64-byte hexadecimal"),
    ("a//b", ""),
    ("a/b/", ""),
    ("http://x/y", ""),
    ("a b", ""),
    ("a/" + "b" * 260, "255 characters"),
])
def test_invalid_quotes_input(s, why):
    with pytest.raises(InvalidArgument) as e:
        parse(s)
    assert repr(s) in e.value.message
    assert why in e.value.message
