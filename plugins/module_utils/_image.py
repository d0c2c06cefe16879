# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The image modules: the all-in-one berth.engine.image and the single-purpose image_pull,
image_push, image_tag, image_remove, image_build, image_load and image_export, as in
community.docker. Each is one `berth apply` request of kind `image` with its `operation`.
"""

from __future__ import annotations

from ansible_collections.berth.engine.plugins.module_utils._berth import ApplyModule


def _name():
    return dict(type="str", required=True)


def _tag():
    return dict(type="str", default="latest")


def _build_options(path_required=True):
    """Build options shared by image (under `build`) and image_build (top level)."""
    return dict(
        path=dict(type="path", required=path_required),
        dockerfile=dict(type="str"),
        args=dict(type="dict"),
        target=dict(type="str"),
        nocache=dict(type="bool", default=False),
        pull=dict(type="bool", default=False),
        labels=dict(type="dict"),
        network=dict(type="str"),
        etc_hosts=dict(type="dict"),
        shm_size=dict(type="str"),
        cache_from=dict(type="list", elements="str"),
        platform=dict(type="str"),
    )


IMAGE_OPTIONS = dict(
    name=_name(),
    tag=_tag(),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    source=dict(type="str", choices=["pull", "build", "load", "local"]),
    build=dict(type="dict", options=_build_options()),
    push=dict(type="bool", default=False),
    repository=dict(type="str"),
    force_source=dict(type="bool", default=False),
    force_tag=dict(type="bool", default=False),
    force_absent=dict(type="bool", default=False),
    archive_path=dict(type="path"),
    load_path=dict(type="path"),
)

PULL_OPTIONS = dict(
    name=_name(),
    tag=_tag(),
    platform=dict(type="str"),
    pull=dict(type="str", choices=["always", "not_present"], default="always"),
)

PUSH_OPTIONS = dict(name=_name(), tag=_tag())

TAG_OPTIONS = dict(
    name=_name(),
    tag=_tag(),
    repository=dict(type="list", elements="str", required=True),
    existing_tags=dict(type="str", choices=["keep", "overwrite"], default="keep"),
)

REMOVE_OPTIONS = dict(
    name=_name(),
    tag=_tag(),
    force=dict(type="bool", default=False),
    prune=dict(type="bool", default=True),
)

BUILD_OPTIONS = dict(name=_name(), tag=_tag(), rebuild=dict(type="str", choices=["never", "always"], default="never"))
BUILD_OPTIONS.update(_build_options())

LOAD_OPTIONS = dict(path=dict(type="path", required=True))

EXPORT_OPTIONS = dict(
    names=dict(type="list", elements="str", required=True, aliases=["name"]),
    tag=_tag(),
    path=dict(type="path", required=True),
    force=dict(type="bool", default=False),
)

# operation -> (options, state option, extra result keys)
OPERATIONS = dict(
    present=(IMAGE_OPTIONS, "state", ()),
    pull=(PULL_OPTIONS, None, ()),
    push=(PUSH_OPTIONS, None, ()),
    tag=(TAG_OPTIONS, None, ("tagged_images",)),
    remove=(REMOVE_OPTIONS, None, ("deleted", "untagged")),
    build=(BUILD_OPTIONS, None, ()),
    load=(LOAD_OPTIONS, None, ("image_names", "images")),
    export=(EXPORT_OPTIONS, None, ("images",)),
)


IMAGE_MODULES = dict(
    (operation, ApplyModule(options, "image", "image", state_key=state_key, operation=operation, extra_keys=extra))
    for operation, (options, state_key, extra) in OPERATIONS.items()
)

# module name -> its definition (the action plugins look theirs up here)
MODULES = dict(("image" if op == "present" else "image_" + op, m) for op, m in IMAGE_MODULES.items())


def run_module(operation):
    IMAGE_MODULES[operation].run()
