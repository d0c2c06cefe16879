# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""berth.engine.container: options (declared once, here) and the request to `berth apply`.

Option names, types and meanings follow community.docker's docker_container wherever Berth has
the feature. An option of docker_container that Berth lacks is not declared; it is refused
before anything runs, with a message saying Berth does not support it (`unsupported`, the
definition's raw_check).
"""

from __future__ import annotations

from ansible_collections.berth.engine.plugins.module_utils._berth import ApplyModule, check_env

# docker_container options Berth does not have (the engine refuses the same names, see
# engine/apply/container_options.py UNSUPPORTED; a unit test keeps the two in step).
UNSUPPORTED = frozenset([
    "api_version", "blkio_weight_device", "ca_path", "client_cert",
    "client_key", "debug", "default_host_ip",
    "device_requests", "docker_host",
    "ignore_image", "io_maximum_bandwidth", "io_maximum_iops", "kernel_memory",
    "links", "mac_address",
    "platform", "purge_networks", "runtime", "storage_opts", "timeout",
    "tls", "tls_hostname", "trust_image_content", "use_ssh_client", "userns_mode",
    "validate_certs", "gpus", "volume_driver",
    "image_label_mismatch", "pull_check_mode_behavior", "ssl_version",
])
# ... and suboptions of its networks and mounts that Berth does not have.
UNSUPPORTED_SUBOPTIONS = dict(
    networks=frozenset(["ipv6_address", "links", "driver_opts", "gw_priority"]),
    mounts=frozenset(["consistency", "volume_driver", "non_recursive", "create_mountpoint",
                      "read_only_non_recursive", "read_only_force_recursive", "subpath", "tmpfs_options"]),
)


def _str_list(**kw):
    return dict(type="list", elements="str", **kw)


def _throttles(rate_type):
    return dict(type="list", elements="dict", options=dict(path=dict(type="str", required=True),
                                                           rate=dict(type=rate_type, required=True)))


# Options that describe the container: the engine compares exactly those the user set.
SPEC_OPTIONS = dict(
    name=dict(type="str", required=True),
    image=dict(type="str"),
    command=dict(type="raw"),
    entrypoint=_str_list(),
    env=dict(type="dict"),
    env_file=dict(type="path"),
    labels=dict(type="dict"),
    user=dict(type="str"),
    working_dir=dict(type="str"),
    hostname=dict(type="str"),
    domainname=dict(type="str"),
    published_ports=dict(type="list", elements="str", aliases=["ports"]),
    publish_all_ports=dict(type="bool"),
    exposed_ports=dict(type="list", elements="str", aliases=["exposed", "expose"]),
    networks=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            aliases=_str_list(),
            ipv4_address=dict(type="str"),
            mac_address=dict(type="str"),
        ),
    ),
    network_mode=dict(type="str"),
    volumes=_str_list(),
    mounts=dict(
        type="list",
        elements="dict",
        options=dict(
            target=dict(type="str", required=True),
            source=dict(type="str"),
            type=dict(type="str", choices=["bind", "volume", "tmpfs"], default="volume"),
            read_only=dict(type="bool"),
            propagation=dict(type="str", choices=["private", "rprivate", "shared", "rshared", "slave", "rslave"]),
            no_copy=dict(type="bool"),
            labels=dict(type="dict"),
            volume_options=dict(type="dict"),
            tmpfs_size=dict(type="str"),
            tmpfs_mode=dict(type="str"),
        ),
    ),
    tmpfs=_str_list(),
    volumes_from=_str_list(),
    restart_policy=dict(type="str", choices=["no", "on-failure", "always", "unless-stopped"]),
    restart_retries=dict(type="int"),
    memory=dict(type="str"),
    memory_swap=dict(type="str"),
    memory_reservation=dict(type="str"),
    cpus=dict(type="float"),
    cpu_shares=dict(type="int"),
    cpu_period=dict(type="int"),
    cpu_quota=dict(type="int"),
    cpuset_cpus=dict(type="str"),
    cpuset_mems=dict(type="str"),
    pids_limit=dict(type="int"),
    blkio_weight=dict(type="int"),
    ulimits=_str_list(),
    sysctls=dict(type="dict"),
    capabilities=_str_list(),
    cap_drop=_str_list(),
    groups=_str_list(),
    oom_score_adj=dict(type="int"),
    privileged=dict(type="bool"),
    devices=_str_list(),
    read_only=dict(type="bool"),
    security_opts=_str_list(),
    init=dict(type="bool"),
    pid_mode=dict(type="str"),
    ipc_mode=dict(type="str"),
    uts=dict(type="str"),
    cgroupns_mode=dict(type="str", choices=["host", "private"]),
    cgroup_parent=dict(type="str"),
    memory_swappiness=dict(type="int"),
    oom_killer=dict(type="bool"),
    device_cgroup_rules=_str_list(),
    device_read_bps=_throttles("str"),
    device_write_bps=_throttles("str"),
    device_read_iops=_throttles("int"),
    device_write_iops=_throttles("int"),
    shm_size=dict(type="str"),
    stop_signal=dict(type="str"),
    stop_timeout=dict(type="int"),
    healthcheck=dict(
        type="dict",
        options=dict(
            test=dict(type="raw"),
            interval=dict(type="str"),
            timeout=dict(type="str"),
            retries=dict(type="int"),
            start_period=dict(type="str"),
            start_interval=dict(type="str"),
        ),
    ),
    auto_remove=dict(type="bool"),
    etc_hosts=dict(type="dict"),
    dns_servers=_str_list(),
    dns_search_domains=_str_list(),
    dns_opts=_str_list(),
    log_driver=dict(type="str"),
    log_options=dict(type="dict", aliases=["log_opt"]),
    interactive=dict(type="bool"),
    tty=dict(type="bool"),
)

# Options that steer reconciliation: never compared.
CONTROL_OPTIONS = dict(
    pull=dict(type="raw", default="missing"),
    comparisons=dict(type="dict"),
    recreate=dict(type="bool", default=False),
    restart=dict(type="bool", default=False),
    force_kill=dict(type="bool", default=False, aliases=["forcekill"]),
    kill_signal=dict(type="str"),
    paused=dict(type="bool"),
    image_comparison=dict(type="str", choices=["desired-image", "current-image"], default="desired-image"),
    image_name_mismatch=dict(type="str", choices=["recreate", "ignore"], default="recreate"),
    keep_volumes=dict(type="bool", default=True),
    removal_wait_timeout=dict(type="float"),
    healthy_wait_timeout=dict(type="float", default=300),
    detach=dict(type="bool", default=True),
    cleanup=dict(type="bool", default=False),
    output_logs=dict(type="bool", default=False),
    command_handling=dict(type="str", choices=["correct"]),
    container_default_behavior=dict(type="str", choices=["no_defaults"]),
    networks_cli_compatible=dict(type="bool"),
)

STATES = ["absent", "present", "stopped", "started", "healthy"]

OPTIONS = dict(state=dict(type="str", choices=STATES, default="started"))
OPTIONS.update(SPEC_OPTIONS)
OPTIONS.update(CONTROL_OPTIONS)


def unsupported(params):
    """The first docker_container option (or suboption) in `params` that Berth does not support,
    as (field, message), or None."""
    for key in sorted(params):
        if key in UNSUPPORTED:
            return (key, "option %s of community.docker.docker_container is not supported by Berth" % key)
    for key, subs in sorted(UNSUPPORTED_SUBOPTIONS.items()):
        entries = params.get(key)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            for sub in sorted(entry if isinstance(entry, dict) else ()):
                if sub in subs:
                    return ("%s.%d.%s" % (key, i, sub),
                            "option %s.%s of community.docker.docker_container is not supported by Berth"
                            % (key, sub))
    return None


CONTAINER = ApplyModule(OPTIONS, "container", "container", check_spec=check_env, extra_keys=("status",),
                        raw_check=unsupported)

# module name -> its definition (the action plugins look theirs up here)
MODULES = dict(container=CONTAINER)


def run_module():
    CONTAINER.run()
