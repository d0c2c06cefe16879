# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Options (declared once, here) of the network, volume, login, container_exec, *_info and
prune modules. Each module is one `berth apply` request; see docs/apply.md."""

from __future__ import annotations

from ansible_collections.berth.engine.plugins.module_utils._berth import ApplyModule, check_env

_PRESENT_ABSENT = dict(type="str", choices=["present", "absent"], default="present")

NETWORK_OPTIONS = dict(
    name=dict(type="str", required=True, aliases=["network_name"]),
    state=dict(_PRESENT_ABSENT),
    driver=dict(type="str", default="bridge"),
    driver_options=dict(type="dict"),
    ipam_driver=dict(type="str"),
    ipam_config=dict(
        type="list",
        elements="dict",
        options=dict(
            subnet=dict(type="str"),
            iprange=dict(type="str"),
            gateway=dict(type="str"),
            aux_addresses=dict(type="dict"),
        ),
    ),
    internal=dict(type="bool"),
    enable_ipv6=dict(type="bool"),
    attachable=dict(type="bool"),
    labels=dict(type="dict"),
    connected=dict(type="list", elements="str", aliases=["containers"]),
    appends=dict(type="bool", default=False, aliases=["incremental"]),
    force=dict(type="bool", default=False),
)

VOLUME_OPTIONS = dict(
    volume_name=dict(type="str", required=True, aliases=["name"]),
    state=dict(_PRESENT_ABSENT),
    driver=dict(type="str", default="local"),
    driver_options=dict(type="dict"),
    labels=dict(type="dict"),
    recreate=dict(type="str", choices=["always", "never", "options-changed"], default="never"),
)

LOGIN_OPTIONS = dict(
    registry_url=dict(type="str", default="https://index.docker.io/v1/", aliases=["registry", "url"]),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    reauthorize=dict(type="bool", default=False, aliases=["reauth"]),
    state=dict(_PRESENT_ABSENT),
)

EXEC_OPTIONS = dict(
    container=dict(type="str", required=True),
    argv=dict(type="list", elements="str"),
    command=dict(type="str"),
    chdir=dict(type="str"),
    detach=dict(type="bool", default=False),
    user=dict(type="str"),
    stdin=dict(type="str"),
    stdin_add_newline=dict(type="bool", default=True),
    strip_empty_ends=dict(type="bool", default=True),
    tty=dict(type="bool", default=False),
    env=dict(type="dict"),
)

NAMED_INFO_OPTIONS = dict(name=dict(type="str", required=True))
VOLUME_INFO_OPTIONS = dict(name=dict(type="str", required=True, aliases=["volume_name"]))
IMAGE_INFO_OPTIONS = dict(name=dict(type="list", elements="str"))

HOST_INFO_OPTIONS = dict(
    containers=dict(type="bool", default=False),
    containers_all=dict(type="bool", default=False),
    images=dict(type="bool", default=False),
    networks=dict(type="bool", default=False),
    volumes=dict(type="bool", default=False),
)

PRUNE_OPTIONS = dict(
    containers=dict(type="bool", default=False),
    containers_filters=dict(type="dict"),
    images=dict(type="bool", default=False),
    images_filters=dict(type="dict"),
    networks=dict(type="bool", default=False),
    networks_filters=dict(type="dict"),
    volumes=dict(type="bool", default=False),
    volumes_filters=dict(type="dict"),
    builder_cache=dict(type="bool", default=False),
)

PRUNE_RESULT_KEYS = (
    "containers", "containers_space_reclaimed", "images", "images_space_reclaimed", "networks", "volumes",
    "volumes_space_reclaimed", "builder_cache_space_reclaimed",
)


NETWORK = ApplyModule(NETWORK_OPTIONS, "network", "network")
VOLUME = ApplyModule(VOLUME_OPTIONS, "volume", "volume")
LOGIN = ApplyModule(LOGIN_OPTIONS, "login", "login_result", required_if=[("state", "present", ("username", "password"))])
EXEC = ApplyModule(EXEC_OPTIONS, "exec", None, state_key=None, check_spec=check_env,
                   extra_keys=("rc", "stdout", "stderr", "exec_id"),
                   mutually_exclusive=[("argv", "command")], required_one_of=[("argv", "command")])
# container_info, network_info, volume_info: {exists, <kind>}
INFO = dict(
    (kind, ApplyModule(VOLUME_INFO_OPTIONS if kind == "volume" else NAMED_INFO_OPTIONS, "info", kind, state_key=None,
                       spec_extra=dict(type=kind), extra_keys=("exists",)))
    for kind in ("container", "network", "volume")
)
IMAGE_INFO = ApplyModule(IMAGE_INFO_OPTIONS, "info", None, state_key=None, extra_keys=("images",),
                         spec_extra=dict(type="image"), rename=dict(name="names"))
HOST_INFO = ApplyModule(HOST_INFO_OPTIONS, "info", None, state_key=None, spec_extra=dict(type="host"),
                        extra_keys=("host_info", "containers", "images", "networks", "volumes"))
PRUNE = ApplyModule(PRUNE_OPTIONS, "prune", None, state_key=None, extra_keys=PRUNE_RESULT_KEYS)

# module name -> its definition (the action plugins look theirs up here)
MODULES = dict(
    network=NETWORK, volume=VOLUME, login=LOGIN, container_exec=EXEC, container_info=INFO["container"],
    network_info=INFO["network"], volume_info=INFO["volume"], image_info=IMAGE_INFO, host_info=HOST_INFO,
    prune=PRUNE,
)


def run_network():
    NETWORK.run()


def run_volume():
    VOLUME.run()


def run_login():
    LOGIN.run()


def run_exec():
    EXEC.run()


def run_info(kind):
    """container_info, network_info, volume_info: {exists, <kind>}."""
    INFO[kind].run()


def run_image_info():
    IMAGE_INFO.run()


def run_host_info():
    HOST_INFO.run()


def run_prune():
    PRUNE.run()
