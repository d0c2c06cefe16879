#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: container
short_description: Manage containers with the Berth engine
version_added: 0.1.0
description:
  - Create, update, start, stop and remove containers on a host running the Berth engine, without a Docker daemon.
  - Options have the names and meanings of M(community.docker.docker_container) wherever Berth has the feature.
    An option Berth does not support is refused.
  - Only the options you set are compared with the existing container. A difference in an option that can change
    in place (restart policy, resource limits) updates the container; any other difference recreates it.
  - A new image digest behind the same tag recreates the container (see O(image_comparison) and O(pull)).
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
    details: The engine plans the change without acting and reports what a real run would do.
  diff_mode:
    support: full
    details: The diff is keyed by option name.
  idempotent:
    support: full
    details: A second run with the same options changes nothing.
options:
  name:
    description: Name of the container.
    type: str
    required: true
  state:
    description:
      - V(absent) removes the container.
      - V(present) creates it (or updates it) without starting it, and leaves a running container running.
      - V(stopped) creates or updates it and makes sure it is not running.
      - V(started) creates or updates it and makes sure it is running.
      - V(healthy) is V(started) and then waits up to O(healthy_wait_timeout) seconds for the healthcheck to pass.
    type: str
    choices: [absent, present, stopped, started, healthy]
    default: started
  image:
    description:
      - Image reference, normalised like Docker's (V(busybox) is V(docker.io/library/busybox:latest)); a digest pins it.
      - Required to create the container.
    type: str
  command:
    description:
      - Command to run, replacing the image's CMD. A string is split like a shell would.
    type: raw
  entrypoint:
    description: Entrypoint, replacing the image's ENTRYPOINT.
    type: list
    elements: str
  env:
    description:
      - Environment variables. Values must be strings; quote booleans and numbers that should keep their spelling.
    type: dict
  env_file:
    description:
      - Path of a file on the managed host with C(KEY=VALUE) lines, read like C(docker run --env-file). O(env) wins over it.
    type: path
  labels:
    description: Container labels.
    type: dict
  user:
    description: User (and group) the process runs as, C(user[:group]) by name or number.
    type: str
  working_dir:
    description: Working directory of the process.
    type: str
  hostname:
    description: Hostname of the container.
    type: str
  domainname:
    description: Domain name of the container.
    type: str
  published_ports:
    description:
      - Ports to publish, in C(docker run -p) forms (V(8080:80), V(127.0.0.1:8080:80/udp), V(80)).
      - V(all) publishes every exposed port to a random host port, like O(publish_all_ports).
    type: list
    elements: str
    aliases: [ports]
  publish_all_ports:
    description: Publish every exposed port to a random host port.
    type: bool
  exposed_ports:
    description: Ports to expose (V(80), V(53/udp)) in addition to the image's.
    type: list
    elements: str
    aliases: [exposed, expose]
  networks:
    description: Networks to connect the container to.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the network.
        type: str
        required: true
      aliases:
        description: Names under which other containers on the network reach this one.
        type: list
        elements: str
      ipv4_address:
        description: Static IPv4 address on the network.
        type: str
      mac_address:
        description: MAC address on the network.
        type: str
  network_mode:
    description: V(bridge), V(host), V(none), V(container:NAME) or the name of a network.
    type: str
  volumes:
    description: Volumes and bind mounts in C(docker run -v) form (V(/host:/ctr:ro), V(name:/ctr), V(/ctr)).
    type: list
    elements: str
  mounts:
    description: Mounts in the structured form of C(docker run --mount).
    type: list
    elements: dict
    suboptions:
      target:
        description: Path in the container.
        type: str
        required: true
      source:
        description: Host path (V(bind)) or volume name (V(volume); anonymous when not set).
        type: str
      type:
        description: Kind of mount.
        type: str
        choices: [bind, volume, tmpfs]
        default: volume
      read_only:
        description: Mount read-only.
        type: bool
      propagation:
        description: Bind propagation.
        type: str
        choices: [private, rprivate, shared, rshared, slave, rslave]
      no_copy:
        description: Do not copy the image's content at the target into an empty volume.
        type: bool
      labels:
        description: Labels of a volume the mount creates.
        type: dict
      volume_options:
        description: Driver options of a volume the mount creates (V(type), V(o), V(device)).
        type: dict
      tmpfs_size:
        description: Size of a tmpfs mount (V(64m)).
        type: str
      tmpfs_mode:
        description: Permission mode of a tmpfs mount, in octal (V(1777)).
        type: str
  tmpfs:
    description: tmpfs mounts as C(PATH[:OPTIONS]).
    type: list
    elements: str
  volumes_from:
    description: Mount the volumes of other containers, as C(CONTAINER[:ro|rw]).
    type: list
    elements: str
  restart_policy:
    description: Restart policy. Changes in place.
    type: str
    choices: ['no', on-failure, always, unless-stopped]
  restart_retries:
    description: Maximum restarts with the V(on-failure) policy. Changes in place.
    type: int
  memory:
    description: Memory limit (V(512m), V(1g)); V(0) for none. Changes in place.
    type: str
  memory_swap:
    description: Memory plus swap limit; V(-1) for unlimited swap. Changes in place.
    type: str
  memory_reservation:
    description: Memory soft limit. Changes in place.
    type: str
  cpus:
    description: Number of CPUs the container may use (V(1.5)). Changes in place.
    type: float
  cpu_shares:
    description: Relative CPU weight. Changes in place.
    type: int
  cpu_period:
    description: CPU CFS period in microseconds. Changes in place.
    type: int
  cpu_quota:
    description: CPU CFS quota in microseconds. Changes in place.
    type: int
  cpuset_cpus:
    description: CPUs the container may run on (V(0-1), V(0,2)). Changes in place.
    type: str
  cpuset_mems:
    description: Memory nodes the container may use. Changes in place.
    type: str
  pids_limit:
    description: Maximum number of processes; V(-1) for unlimited. Changes in place.
    type: int
  blkio_weight:
    description: Block IO weight (10 to 1000). Changes in place.
    type: int
  ulimits:
    description: Resource limits as C(NAME:SOFT[:HARD]) (V(nofile:1024:2048)).
    type: list
    elements: str
  sysctls:
    description: Namespaced kernel parameters.
    type: dict
  capabilities:
    description: Capabilities to add to Docker's default set.
    type: list
    elements: str
  cap_drop:
    description: Capabilities to drop (V(ALL) for every one).
    type: list
    elements: str
  groups:
    description: Additional groups of the container's process, by name or number.
    type: list
    elements: str
  oom_score_adj:
    description: OOM killer score adjustment (-1000 to 1000).
    type: int
  privileged:
    description: Give the container every capability and device. Only when asked.
    type: bool
  devices:
    description: Host devices as C(HOST[:CONTAINER[:PERMISSIONS]]).
    type: list
    elements: str
  read_only:
    description: Mount the root filesystem read-only.
    type: bool
  security_opts:
    description: Security options (V(no-new-privileges), V(seccomp=unconfined), V(seccomp=PATH)).
    type: list
    elements: str
  init:
    description: Run an init process (tini) as PID 1 that forwards signals and reaps zombies.
    type: bool
  pid_mode:
    description:
      - PID namespace. V(host) shares the host's; V(container:NAME) joins that running container's.
      - Unset, the container has a PID namespace of its own.
    type: str
  ipc_mode:
    description:
      - IPC namespace and C(/dev/shm). V(private) (the default) and V(shareable) give one of the
        container's own; other containers can join a V(shareable) one with V(container:NAME).
      - V(host) shares the host's namespace and C(/dev/shm); V(none) has no C(/dev/shm).
    type: str
  uts:
    description:
      - UTS namespace. V(host) shares the host's host name (and cannot be combined with O(hostname)).
    type: str
  cgroupns_mode:
    description:
      - cgroup namespace. Unset, docker's default applies, V(private) on cgroup v2 and V(host) on v1.
    type: str
    choices: [host, private]
  cgroup_parent:
    description:
      - The cgroup under which the container's own is made, as a cgroupfs path (V(/ops), V(ops/batch)).
        Unset, V(/berth).
    type: str
  memory_swappiness:
    description:
      - Memory swappiness of the container, 0 to 100; V(-1) leaves the kernel's. cgroup v1 only
        (discarded with a warning on v2, as docker does).
    type: int
  oom_killer:
    description:
      - V(true) disables the OOM killer for the container (docker's C(--oom-kill-disable)). cgroup v1
        only; without O(memory) the engine warns, as docker does.
    type: bool
  device_cgroup_rules:
    description:
      - Device cgroup rules, C(TYPE MAJOR:MINOR ACCESS) as docker's C(--device-cgroup-rule) (V(c 1:3 rwm)).
    type: list
    elements: str
  device_read_bps:
    description:
      - Limits on the read rate of block devices (bytes per second, a size such as V(20M)).
    type: list
    elements: dict
    suboptions:
      path:
        description: The block device on the host (V(/dev/vda)).
        type: str
        required: true
      rate:
        description: The limit, in bytes per second.
        type: str
        required: true
  device_write_bps:
    description:
      - Limits on the write rate of block devices (bytes per second, a size such as V(20M)).
    type: list
    elements: dict
    suboptions:
      path:
        description: The block device on the host (V(/dev/vda)).
        type: str
        required: true
      rate:
        description: The limit, in bytes per second.
        type: str
        required: true
  device_read_iops:
    description:
      - Limits on the read rate of block devices (I/O operations per second).
    type: list
    elements: dict
    suboptions:
      path:
        description: The block device on the host (V(/dev/vda)).
        type: str
        required: true
      rate:
        description: The limit, in I/O operations per second.
        type: int
        required: true
  device_write_iops:
    description:
      - Limits on the write rate of block devices (I/O operations per second).
    type: list
    elements: dict
    suboptions:
      path:
        description: The block device on the host (V(/dev/vda)).
        type: str
        required: true
      rate:
        description: The limit, in I/O operations per second.
        type: int
        required: true
  shm_size:
    description: Size of C(/dev/shm) (V(64m)).
    type: str
  stop_signal:
    description: Signal that stops the container (V(SIGTERM)).
    type: str
  stop_timeout:
    description: Seconds to wait after the stop signal before killing the container.
    type: int
  healthcheck:
    description: Healthcheck, like Dockerfile's HEALTHCHECK.
    type: dict
    suboptions:
      test:
        description:
          - Command; a string runs through the shell (C(CMD-SHELL)), a list is C(["CMD", ...]) or C(["NONE"]).
        type: raw
      interval:
        description: Time between checks (V(30s), V(1m30s)).
        type: str
      timeout:
        description: Time after which a check fails.
        type: str
      retries:
        description: Consecutive failures that make the container unhealthy.
        type: int
      start_period:
        description: Start-up time during which failures do not count.
        type: str
      start_interval:
        description: Time between checks during the start period.
        type: str
  auto_remove:
    description: Remove the container when it exits.
    type: bool
  etc_hosts:
    description: Extra C(/etc/hosts) entries, hostname to address.
    type: dict
  dns_servers:
    description: DNS servers of the container.
    type: list
    elements: str
  dns_search_domains:
    description: DNS search domains.
    type: list
    elements: str
  dns_opts:
    description: DNS resolver options.
    type: list
    elements: str
  log_driver:
    description: Log driver; Berth has V(json-file).
    type: str
  log_options:
    description: Log driver options (V(max-size), V(max-file)).
    type: dict
    aliases: [log_opt]
  interactive:
    description: Keep stdin open.
    type: bool
  tty:
    description: Allocate a pseudo-terminal.
    type: bool
  pull:
    description:
      - V(missing) (or V(false)) pulls the image only when the host does not have it.
      - V(always) (or V(true)) pulls it every run; a new digest behind the tag recreates the container.
      - V(never) fails when the host does not have the image.
    type: raw
    default: missing
  comparisons:
    description:
      - Per option, how the existing container is compared with the desired one, like community.docker's
        option of the same name, one of V(strict), V(ignore) or V(allow_more_present); the key V(*) sets the default.
    type: dict
  recreate:
    description: Recreate the container even when nothing differs.
    type: bool
    default: false
  restart:
    description: Restart the container even when nothing differs.
    type: bool
    default: false
  force_kill:
    description: Kill the container instead of stopping it when it has to stop.
    type: bool
    default: false
    aliases: [forcekill]
  kill_signal:
    description: Signal used with O(force_kill).
    type: str
  paused:
    description:
      - With a running state, V(true) pauses the container (freezes its processes) and V(false) resumes it.
      - When not set, a paused container stays paused.
    type: bool
  image_comparison:
    description:
      - V(desired-image) compares the container's image with the image O(image) resolves to now.
      - V(current-image) compares the container's options with those of the image it runs.
    type: str
    choices: [desired-image, current-image]
    default: desired-image
  image_name_mismatch:
    description: What to do when the container runs the same image under another name.
    type: str
    choices: [recreate, ignore]
    default: recreate
  keep_volumes:
    description: Keep anonymous volumes when the container is removed.
    type: bool
    default: true
  removal_wait_timeout:
    description:
      - Seconds to wait for the container to be gone after removal. Berth removes a container before it answers,
        so there is never anything to wait for.
    type: float
  healthy_wait_timeout:
    description: Seconds to wait for O(state=healthy).
    type: float
    default: 300
  detach:
    description:
      - With V(false), wait for the container to exit and return its output (see O(output_logs)) and exit status.
        A non-zero exit status fails the task, with the output in the message.
    type: bool
    default: true
  cleanup:
    description: With O(detach=false), remove the container after it exits.
    type: bool
    default: false
  output_logs:
    description: With O(detach=false), return the container's output.
    type: bool
    default: false
  command_handling:
    description:
      - Berth always handles O(command) and O(entrypoint) as community.docker's V(correct) does (a string command is
        split like a shell would, a list is used as is); no other value is accepted.
    type: str
    choices: [correct]
  container_default_behavior:
    description:
      - Berth always behaves as community.docker's V(no_defaults) (an option you do not set is left to the image
        and the engine, and is not compared); no other value is accepted.
    type: str
    choices: [no_defaults]
  networks_cli_compatible:
    description:
      - Berth always treats O(networks) as community.docker does with V(true); V(false) is refused.
    type: bool
notes:
  - Options of M(community.docker.docker_container) that Berth does not have (for example O(ignore:userns_mode),
    O(ignore:links), O(ignore:runtime)) are refused with a message saying Berth does not support them.
author:
  - Berth developers (@berth)
seealso:
  - module: berth.engine.container_info
  - module: berth.engine.container_exec
  - module: community.docker.docker_container
"""

EXAMPLES = r"""
- name: Run a web server on a user-defined network
  berth.engine.container:
    name: web
    image: docker.io/library/nginx:1.27
    networks:
      - name: app
        aliases: [www]
    published_ports:
      - "8080:80"
    restart_policy: unless-stopped
    memory: 256m

- name: Change the memory limit in place
  berth.engine.container:
    name: web
    image: docker.io/library/nginx:1.27
    memory: 512m
  register: result

- name: Show what happened
  ansible.builtin.debug:
    var: result.actions

- name: Run a one-shot job and collect its output
  berth.engine.container:
    name: migrate
    image: registry.example.com/app:2.1
    command: ["app", "migrate"]
    detach: false
    output_logs: true
    cleanup: true

- name: Remove the container
  berth.engine.container:
    name: web
    state: absent
"""

RETURN = r"""
container:
  description:
    - Facts of the container in the shape of C(docker inspect) (C(Id), C(Name), C(Config), C(HostConfig), C(State),
      C(NetworkSettings) with C(Networks), each with C(IPAMConfig) and C(Aliases)). Empty when the container is
      absent.
    - With O(detach=false) and O(output_logs=true), C(Output) holds the container's output, as in
      M(community.docker.docker_container).
  returned: success
  type: dict
  sample:
    Id: 2b6c0f0e4f5a
    Name: /web
    State:
      Status: running
      Running: true
    NetworkSettings:
      Networks:
        app:
          Aliases: [www]
          IPAMConfig: {}
          IPAddress: 10.89.0.2
actions:
  description: What the engine did (or, in check mode, would do), in order.
  returned: success
  type: list
  elements: str
  sample: [pulled docker.io/library/nginx:1.27, created, started]
diff:
  description: Options that differ, keyed by option name, before and after.
  returned: when diff mode is on
  type: dict
status:
  description: Exit status of the container with O(detach=false).
  returned: when O(detach=false)
  type: int
"""

from ansible_collections.berth.engine.plugins.module_utils._container import run_module


def main():
    run_module()


if __name__ == "__main__":
    main()
