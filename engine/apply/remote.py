"""What a registry holds behind a reference, without downloading layers: the image id (config
digest) a pull would produce. Lets check mode predict `pull: always` exactly and lets a push of
an image the registry already has report no change.

SHIM (area E1): built on engine.images' registry client and manifest helpers; if the images
area grows a public `remote_image_id`, call that instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import BerthError

if TYPE_CHECKING:
    from engine.context import Context


def remote_image_id(ctx: Context, ref_s: str, platform: str | None = None, push: bool = False) -> str | None:
    """The config digest behind `ref_s` in its registry; None when the tag is absent or the
    registry cannot be asked (the caller then falls back to acting)."""
    from engine.images import manifests as mf
    from engine.images import reference as refmod
    from engine.images.registry.client import RegistryClient

    ref = refmod.parse(ref_s)
    client = RegistryClient(ctx, ref.domain, ref.path, actions=("pull", "push") if push else ("pull",))
    try:
        top = ref.digest or ref.tag or "latest"
        what = f"manifest for {ref.familiar()}"
        r = client.request("GET", f"/v2/{ref.path}/manifests/{top}", {"Accept": mf.ACCEPT}, what=what,
                           ok=(200, 404))
        if r.status == 404:
            return None
        kind, _mt, doc = mf.classify(r.body, r.header("Content-Type"), what)
        if kind == "index":
            desc = mf.select_platform(doc, mf.parse_platform(platform), what)
            r = client.request("GET", f"/v2/{ref.path}/manifests/{desc['digest']}", {"Accept": mf.ACCEPT},
                               what=what)
            kind, _mt, doc = mf.classify(r.body, r.header("Content-Type"), what)
        if kind != "manifest":
            return None
        return str(doc["config"]["digest"])
    except (BerthError, OSError, KeyError, TypeError):
        return None
    finally:
        client.close()
