"""The `berth` command line.

Start-up is paid on every call (Ansible and Pulumi run `berth` once per resource), so this
module imports only the standard library pieces it needs to find the verb, then imports the
one module that implements that verb. Each verb module exposes `run(verb, argv, g) -> int`
and builds its own argparse parser.
"""

from __future__ import annotations

import os
import sys

# verb -> (module, one-line help). Keep the modules lazy: never import them here.
VERBS: dict[str, tuple[str, str]] = {
    # images
    "pull": ("engine.cli.image_cmds", "Download an image from a registry"),
    "push": ("engine.cli.image_cmds", "Upload an image to a registry"),
    "login": ("engine.cli.image_cmds", "Log in to a registry"),
    "logout": ("engine.cli.image_cmds", "Log out from a registry"),
    "images": ("engine.cli.image_cmds", "List images"),
    "image": ("engine.cli.image_cmds", "Manage images (ls, inspect, rm, prune, history, tag, ...)"),
    "tag": ("engine.cli.image_cmds", "Create a tag that refers to an image"),
    "rmi": ("engine.cli.image_cmds", "Remove images"),
    "history": ("engine.cli.image_cmds", "Show the history of an image"),
    "save": ("engine.cli.image_cmds", "Save images to a tar archive (docker save format)"),
    "load": ("engine.cli.image_cmds", "Load images from a tar archive"),
    "import": ("engine.cli.image_cmds", "Import a rootfs tarball as an image"),
    "info": ("engine.cli.image_cmds", "Show engine-wide information"),
    "version": ("engine.cli.image_cmds", "Show the Berth version"),
    # containers
    "create": ("engine.cli.container_cmds", "Create a container"),
    "run": ("engine.cli.container_cmds", "Create and start a container"),
    "start": ("engine.cli.container_cmds", "Start containers"),
    "stop": ("engine.cli.container_cmds", "Stop containers"),
    "kill": ("engine.cli.container_cmds", "Send a signal to containers"),
    "restart": ("engine.cli.container_cmds", "Restart containers"),
    "pause": ("engine.cli.container_cmds", "Pause containers"),
    "unpause": ("engine.cli.container_cmds", "Unpause containers"),
    "rm": ("engine.cli.container_cmds", "Remove containers"),
    "wait": ("engine.cli.container_cmds", "Wait for containers to stop, print exit codes"),
    "rename": ("engine.cli.container_cmds", "Rename a container"),
    "update": ("engine.cli.container_cmds", "Update resource limits and restart policy"),
    "ps": ("engine.cli.container_cmds", "List containers"),
    "container": ("engine.cli.container_cmds", "Manage containers (ls, inspect, rm, prune, ...)"),
    "logs": ("engine.cli.container_cmds", "Fetch the logs of a container"),
    "exec": ("engine.cli.container_cmds", "Run a command in a running container"),
    "top": ("engine.cli.container_cmds", "Show the processes of a container"),
    "stats": ("engine.cli.container_cmds", "Show resource usage of containers"),
    "cp": ("engine.cli.container_cmds", "Copy files between a container and the host"),
    "diff": ("engine.cli.container_cmds", "Show changes to a container's filesystem"),
    "commit": ("engine.cli.container_cmds", "Create an image from a container"),
    "export": ("engine.cli.container_cmds", "Export a container's filesystem as a tar archive"),
    "port": ("engine.cli.container_cmds", "List port mappings of a container"),
    "restore": ("engine.cli.container_cmds", "Bring back containers after a reboot (boot hook)"),
    "_conmon-exit": ("engine.cli.container_cmds", None),  # conmon's exit command (internal)
    "_health": ("engine.cli.container_cmds", None),  # healthcheck runner (internal)
    # networks and volumes
    "network": ("engine.cli.network_cmds", "Manage networks"),
    "volume": ("engine.cli.network_cmds", "Manage volumes"),
    # builds
    "build": ("engine.cli.build_cmds", "Build an image from a Dockerfile"),
    # the front-end contract
    "apply": ("engine.cli.apply_cmds", "Reconcile one resource with a JSON desired state (stdin)"),
    "inspect": ("engine.cli.inspect_cmds", "Show low-level facts of [KIND] NAME"),
    "ls": ("engine.cli.inspect_cmds", "List objects of KIND as JSON"),
    "schema": ("engine.cli.apply_cmds", "Print the JSON Schema of a kind's spec"),
}

USAGE = """usage: berth [--root DIR] [--runroot DIR] [--config FILE] [--debug] VERB [ARGS...]

Global options:
  --root DIR      persistent state (default /var/lib/berth, env BERTH_ROOT)
  --runroot DIR   runtime state (default /run/berth, env BERTH_RUNROOT)
  --config FILE   configuration (default /etc/berth/config.toml, env BERTH_CONFIG)
  --debug         show tracebacks on errors
"""


def _usage() -> str:
    lines = [USAGE, "Verbs:"]
    for verb, (_mod, text) in VERBS.items():
        if text:
            lines.append(f"  {verb:<10} {text}")
    lines.append("\nRun 'berth VERB --help' for a verb's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts: dict[str, str | None] = {"root": None, "runroot": None, "config": None}
    debug = bool(os.environ.get("BERTH_DEBUG"))
    while argv and argv[0].startswith("-"):
        a = argv.pop(0)
        name, eq, val = a.partition("=")
        key = name.lstrip("-")
        if key in opts:
            if not eq:
                if not argv:
                    print(f"berth: option {name} needs a value", file=sys.stderr)
                    return 2
                val = argv.pop(0)
            opts[key] = val
        elif a == "--debug":
            debug = True
        elif a in ("-h", "--help"):
            print(_usage())
            return 0
        elif a in ("-v", "--version"):
            from engine import __version__

            print(f"berth version {__version__}")
            return 0
        else:
            print(f"berth: unknown global option {a!r}\n\n{_usage()}", file=sys.stderr)
            return 2
    if not argv:
        print(_usage(), file=sys.stderr)
        return 2
    verb = argv.pop(0)
    if verb not in VERBS:
        print(f"berth: unknown verb {verb!r}; run 'berth --help'", file=sys.stderr)
        return 2

    from engine.cli.common import Globals, run_verb

    g = Globals(root=opts["root"], runroot=opts["runroot"], config=opts["config"], debug=debug)
    return run_verb(VERBS[verb][0], verb, argv, g)
