"""Pull and push against Debian's docker-registry (basic auth, bearer tokens, anonymous),
interop with skopeo both ways."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.requires("root", "busybox", "registry")


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p


def make_oci_dir(tmp: Path, busybox_rootfs: Path) -> Path:
    """An OCI layout (two layers: busybox rootfs, a small extra layer) built with skopeo's help
    from a `berth`-independent path: we write the layout by hand."""
    import gzip
    import hashlib
    import io

    def sha(b: bytes) -> str:
        return "sha256:" + hashlib.sha256(b).hexdigest()

    extra = io.BytesIO()
    with tarfile.open(fileobj=extra, mode="w") as tf:
        data = b"from skopeo\n"
        ti = tarfile.TarInfo("etc/skopeo-was-here")
        ti.size, ti.mode, ti.mtime = len(data), 0o640, 1700000000
        ti.uid, ti.gid = 1000, 1000
        tf.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("etc/.wh.hostname")
        tf.addfile(ti)
    layers_raw = [busybox_rootfs.read_bytes(), extra.getvalue()]
    out = tmp / "oci"
    (out / "blobs" / "sha256").mkdir(parents=True)
    descs = []
    for raw in layers_raw:
        gz = gzip.compress(raw, compresslevel=1, mtime=0)
        (out / "blobs" / "sha256" / sha(gz)[7:]).write_bytes(gz)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(gz), "size": len(gz)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                      "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
                      "rootfs": {"type": "layers", "diff_ids": [sha(r) for r in layers_raw]}}).encode()
    (out / "blobs" / "sha256" / sha(cfg)[7:]).write_bytes(cfg)
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
                                 "size": len(cfg)}, "layers": descs}).encode()
    (out / "blobs" / "sha256" / sha(man)[7:]).write_bytes(man)
    (out / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (out / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
    return out


@pytest.fixture(scope="module")
def skopeo_pushed(open_registry, busybox_rootfs, tmp_path_factory):
    """An image pushed to the anonymous registry by skopeo, as (reference, source OCI dir)."""
    if not shutil.which("skopeo"):
        pytest.skip("requires skopeo")
    oci = make_oci_dir(tmp_path_factory.mktemp("ocisrc"), busybox_rootfs)
    ref = f"{open_registry.host}/interop/busybox:1"
    skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{oci}:latest", f"docker://{ref}")
    return ref, oci


def test_pull_skopeo_pushed_image(berth_host, skopeo_pushed):
    ref, _oci = skopeo_pushed
    p = berth_host.run("pull", ref)
    assert p.stdout.strip().splitlines()[-1] == ref
    assert p.stdout.splitlines()[0] == "1: Pulling from interop/busybox"  # docker: the path only
    assert f"Status: Downloaded newer image for {ref}" in p.stdout and "Pull complete" in p.stdout
    info = berth_host.json("image", "inspect", ref)[0]
    assert info["RepoTags"] == [ref]
    assert info["RepoDigests"][0].startswith(ref.rsplit(":", 1)[0] + "@sha256:")
    assert info["Config"]["Cmd"] == ["sh"]
    dirs = [berth_host.root / "layers" / d.split(":")[1] for d in info["RootFS"]["Layers"]]
    assert (dirs[0] / "bin" / "busybox").stat().st_size == Path("/bin/busybox").stat().st_size
    f = dirs[1] / "etc" / "skopeo-was-here"
    st = f.stat()
    assert f.read_text() == "from skopeo\n" and (st.st_uid, st.st_gid) == (1000, 1000) and st.st_mode & 0o777 == 0o640
    wh = (dirs[1] / "etc" / "hostname").lstat()
    assert os.major(wh.st_rdev) == 0 and os.minor(wh.st_rdev) == 0 and (wh.st_mode & 0o170000) == 0o020000
    # a second pull is a no-op that keeps the same image
    again = berth_host.json("pull", "--format", "json", ref)
    assert again["Id"] == info["Id"]
    out = berth_host.run("pull", ref).stdout
    assert "Already exists" in out and f"Status: Image is up to date for {ref}" in out
    # pull by digest works and verifies
    digest = info["RepoDigests"][0].split("@")[1]
    berth_host.run("pull", "-q", f"{ref.rsplit(':', 1)[0]}@{digest}")


def test_push_then_skopeo_copies_identical(berth_host, busybox_image, open_registry, tmp_path):
    target = f"{open_registry.host}/berth/pushed:v1"
    berth_host.run("tag", busybox_image, target)
    out = berth_host.json("push", "--format", "json", target)
    ours = berth_host.json("image", "inspect", target)[0]
    assert out["Digest"] == ours["Descriptor"]["digest"]
    assert f"{open_registry.host}/berth/pushed@{out['Digest']}" in ours["RepoDigests"]
    dest = tmp_path / "copy"
    skopeo("copy", "--src-tls-verify=false", "--preserve-digests", f"docker://{target}", f"oci:{dest}:v1")
    idx = json.loads((dest / "index.json").read_text())
    assert idx["manifests"][0]["digest"] == out["Digest"]
    insp = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{target}").stdout)
    assert insp["Digest"] == out["Digest"]
    # push again: every blob already exists
    again = berth_host.json("push", "--format", "json", target)
    assert again["Layers"] == ["exists"]
    # a second repository in the same registry: the blob is mounted, not uploaded
    other = f"{open_registry.host}/berth/other:v1"
    berth_host.run("tag", busybox_image, other)
    assert berth_host.json("push", "--format", "json", other)["Layers"] == ["mounted"]


def test_push_human_output_like_docker(berth_host, busybox_image, open_registry):
    target = f"{open_registry.host}/berth/human:v1"
    berth_host.run("tag", busybox_image, target)
    info = berth_host.json("image", "inspect", target)[0]
    layer = _manifest(berth_host, info)["layers"][0]["digest"]
    lines = berth_host.run("push", target).stdout.splitlines()
    assert lines[0] == f"The push refers to repository [{open_registry.host}/berth/human]"
    body = lines[1:-1]
    assert body and all(line.startswith(layer[7:19] + ": ") for line in body), lines  # layers only, no config
    assert body[-1] in (f"{layer[7:19]}: Pushed", f"{layer[7:19]}: Layer already exists") or "Mounted from" in body[-1]
    assert lines[-1] == f"v1: digest: {info['Descriptor']['digest']} size: {info['Descriptor']['size']}"


def test_chunked_push_and_pull_back(berth_host, busybox_image, open_registry):
    target = f"{open_registry.host}/berth/chunked:v1"
    berth_host.run("tag", busybox_image, target)
    res = berth_host.json("push", "--format", "json", "--chunk-size", "65536", target)
    assert res["Layers"] == ["pushed"] or res["Layers"] == ["mounted"]
    # the pushed image pulls back into a fresh root with the same ID
    from tests.fixtures.host import BerthHost

    other = BerthHost(berth_host.base / "second")
    try:
        other.run("pull", "-q", target)
        assert other.json("image", "inspect", target)[0]["Id"] == res["Id"]
    finally:
        other.teardown()


def test_basic_auth_login_push_pull_logout(berth_host, busybox_image, registry):
    target = f"{registry.host}/private/img:1"
    berth_host.run("tag", busybox_image, target)
    p = berth_host.run("push", target, check=False)
    assert p.returncode == 1 and "unauthorized" in p.stderr.lower()
    bad = berth_host.run("login", "-u", registry.user, "--password-stdin", registry.host, input="wrong\n",
                         check=False)
    assert bad.returncode == 1 and "wrong" not in bad.stdout + bad.stderr
    assert not (berth_host.root / "auth.json").exists()
    ok = berth_host.run("login", "-u", registry.user, "--password-stdin", registry.host, input=registry.password + "\n")
    assert "Login Succeeded" in ok.stdout and registry.password not in ok.stdout + ok.stderr
    auth = berth_host.root / "auth.json"
    assert auth.stat().st_mode & 0o777 == 0o600
    doc = json.loads(auth.read_text())
    import base64

    assert base64.b64decode(doc["auths"][registry.host]["auth"]).decode() == f"{registry.user}:{registry.password}"
    berth_host.run("push", "-q", target)
    berth_host.run("rmi", target)
    berth_host.run("pull", "-q", target)
    assert "Removing login credentials" in berth_host.run("logout", registry.host).stdout
    assert registry.host not in json.loads(auth.read_text())["auths"]


def test_bearer_token_flow(berth_host, busybox_image, token_registry):
    ts = token_registry.token_server
    target = f"{token_registry.host}/tok/img:1"
    berth_host.run("tag", busybox_image, target)
    p = berth_host.run("push", target, check=False)  # anonymous tokens only grant pull
    assert p.returncode == 1 and ("denied" in p.stderr or "unauthorized" in p.stderr.lower()), p.stderr
    bad = berth_host.run("login", "-u", ts.user, "--password-stdin", token_registry.host, input="nope", check=False)
    assert bad.returncode == 1 and "token server refused user 'tokenuser'" in bad.stderr, bad.stderr
    assert not (berth_host.root / "auth.json").exists()
    berth_host.run("login", "-u", ts.user, "--password-stdin", token_registry.host, input=ts.password)
    n0 = len(ts.requests)
    berth_host.run("push", "-q", target)
    push_tokens = ts.requests[n0:]
    # one token for the repository scope, reused for every blob and the manifest
    assert len(push_tokens) == 1, push_tokens
    assert push_tokens[0]["user"] == ts.user and push_tokens[0]["scopes"] == ["repository:tok/img:pull,push"]
    berth_host.run("logout", token_registry.host)
    berth_host.run("rmi", target)
    n1 = len(ts.requests)
    berth_host.run("pull", "-q", target)  # anonymous token, pull scope
    assert [r["user"] for r in ts.requests[n1:]] == [None]


def test_skopeo_reads_pulled_store(berth_host, skopeo_pushed):
    ref, _ = skopeo_pushed
    berth_host.run("pull", "-q", ref)
    insp = json.loads(skopeo("inspect", f"oci:{berth_host.root}/oci:{ref}").stdout)
    ours = berth_host.json("image", "inspect", ref)[0]
    assert insp["Layers"] == [layer["digest"] for layer in _manifest(berth_host, ours)["layers"]]


def _manifest(host, info):
    d = info["Descriptor"]["digest"].split(":")[1]
    return json.loads((host.root / "oci" / "blobs" / "sha256" / d).read_text())


@pytest.mark.requires("overlay")
def test_layer_dirs_work_as_overlay_lowerdirs(berth_host, skopeo_pushed, tmp_path):
    ref, _ = skopeo_pushed
    berth_host.run("pull", "-q", ref)
    from engine.context import Context
    from engine.images.store import ImageStore

    img = ImageStore(Context(berth_host.root, berth_host.runroot, berth_host.config)).resolve(ref)
    dirs = img.layer_dirs()
    assert dirs[0].name == img.diff_ids[-1].split(":")[1]  # top-most first
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + ":".join(map(str, dirs)), str(mnt)],
                   check=True)
    try:
        assert (mnt / "etc" / "skopeo-was-here").read_text() == "from skopeo\n"
        assert not (mnt / "etc" / "hostname").exists()  # whited out by the top layer
        assert (mnt / "etc" / "passwd").exists() and (mnt / "bin" / "busybox").exists()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_registry_mirror_for_docker_hub(berth_host, busybox_image, open_registry, tls_registry, tmp_path):
    berth_host.run("tag", busybox_image, f"{open_registry.host}/library/mirrortest:1")
    berth_host.run("push", "-q", f"{open_registry.host}/library/mirrortest:1")
    from tests.fixtures.host import BerthHost

    other = BerthHost(tmp_path / "mirrored")
    # the first mirror lacks the image: the next one is asked
    other.write_config(f'registry_mirrors = ["https://{tls_registry.host}", "http://{open_registry.host}"]\n')
    try:
        other.run("pull", "-q", "mirrortest:1")
        info = other.json("image", "inspect", "mirrortest:1")[0]
        assert info["RepoTags"] == ["mirrortest:1"]
        assert info["RepoDigests"][0].startswith("mirrortest@sha256:")
        assert info["Id"] == berth_host.json("image", "inspect", busybox_image)[0]["Id"]
    finally:
        other.teardown()


def test_docker_schema2_manifest(berth_host, skopeo_pushed, open_registry):
    _ref, oci = skopeo_pushed
    ref = f"{open_registry.host}/interop/v2s2:1"
    skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", f"oci:{oci}:latest", f"docker://{ref}")
    berth_host.run("pull", "-q", ref)
    info = berth_host.json("image", "inspect", ref)[0]
    assert info["Descriptor"]["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    want = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}").stdout)["Digest"]
    assert info["Descriptor"]["digest"] == want
    # pushed elsewhere by Berth, the manifest (and so the digest) is unchanged
    again = f"{open_registry.host}/interop/v2s2-copy:1"
    berth_host.run("tag", ref, again)
    assert berth_host.json("push", "--format", "json", again)["Digest"] == want


def test_https_registry_on_loopback(berth_host, busybox_image, tls_registry):
    """HTTPS is tried first; a loopback registry (insecure by Docker's rule) may use a
    self-signed certificate. The registry speaks only TLS, so success means HTTPS was used."""
    ref = f"{tls_registry.host}/tls/img:1"
    berth_host.run("tag", busybox_image, ref)
    berth_host.run("push", "-q", ref)
    berth_host.run("rmi", ref, busybox_image)
    assert berth_host.run("images", "-q").stdout.strip() == ""
    berth_host.run("pull", "-q", ref)
    assert berth_host.json("image", "inspect", ref)[0]["RepoTags"] == [ref]


def test_plain_http_only_for_configured_insecure_registries(berth_host, busybox_image, remote_registry):
    """A registry on a non-loopback address that speaks plain HTTP: refused (HTTPS only) until
    listed in insecure_registries, by host:port or by CIDR."""
    from tests.fixtures.host import BerthHost

    ref = f"{remote_registry.host}/remote/img:1"
    berth_host.run("tag", busybox_image, ref)
    p = berth_host.run("push", ref, check=False)
    assert p.returncode == 1 and f"registry {remote_registry.host} is unreachable: https://" in p.stderr, p.stderr
    assert "insecure_registries" in p.stderr and "http://" not in p.stderr
    berth_host.write_config(f'insecure_registries = ["{remote_registry.host}"]\n')
    berth_host.run("push", "-q", ref)
    addr = remote_registry.host.rsplit(":", 1)[0]
    other = BerthHost(berth_host.base / "other")
    try:
        p = other.run("pull", ref, check=False)
        assert p.returncode == 1 and "insecure_registries" in p.stderr
        other.write_config(f'insecure_registries = ["{addr}/32"]\n')
        other.run("pull", "-q", ref)
        assert other.json("image", "inspect", ref)[0]["Id"] == berth_host.json("image", "inspect", ref)[0]["Id"]
    finally:
        other.teardown()


def test_https_verified_against_the_system_cas(berth_host, busybox_image, remote_tls_registry):
    """A registry off loopback is verified against the system's CAs (OpenSSL's default paths,
    which SSL_CERT_FILE overrides for this process): refused while its certificate is
    unknown, trusted once it is a system CA."""
    ref = f"{remote_tls_registry.host}/tls-remote/img:1"
    berth_host.run("tag", busybox_image, ref)
    p = berth_host.run("push", ref, check=False)
    assert p.returncode == 1 and "certificate verify failed" in p.stderr, p.stderr
    assert "not trusted" in p.stderr and "insecure_registries" in p.stderr
    trusted = {"SSL_CERT_FILE": str(remote_tls_registry.extra["cert"])}
    berth_host.run("push", "-q", ref, env=trusted)
    berth_host.run("rmi", ref)
    berth_host.run("pull", "-q", ref, env=trusted)
    assert ref in berth_host.json("image", "inspect", ref)[0]["RepoTags"]


def test_certificates_verified_unless_insecure(tls_registry):
    """The TLS context for a registry that is neither loopback nor configured insecure checks
    the certificate against the system CAs: the self-signed one is refused."""
    import http.client
    import ssl

    from engine.images.registry.transport import ssl_context

    port = tls_registry.host.split(":")[1]
    lax = http.client.HTTPSConnection(f"127.0.0.1:{port}", timeout=10, context=ssl_context("127.0.0.1", False))
    lax.request("GET", "/v2/")
    assert lax.getresponse().status == 200
    lax.close()
    strict = http.client.HTTPSConnection(f"127.0.0.1:{port}", timeout=10,
                                         context=ssl_context("registry.example", True))
    with pytest.raises(ssl.SSLCertVerificationError):
        strict.request("GET", "/v2/")
    strict.close()
