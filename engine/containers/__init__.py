"""Containers: records in Docker's inspect shape, OCI runtime specs, runc + conmon supervision.

Modules:
    store     records on disk, IDs, names, lookup, locks
    spec      the OCI runtime spec (default, then image config, then user options)
    seccomp   the distribution's seccomp profile converted to the spec's seccomp section
    users     -u resolution through the container's /etc/passwd and /etc/group
    rootfs    overlay mounts of the image layers plus the container's upper dir
    runtime   conmon and runc
    api       the operations (create, start, stop, ...) used by the CLI and `berth apply`
    lifecycle exit handling, restart policies, restore at boot
    health    healthcheck runner
    logs      reading conmon's log files
    oneshot   build steps (runc in the foreground on a throwaway overlay)
"""
