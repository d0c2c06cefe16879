#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_exec
short_description: Run a command in a running container with the Berth engine
version_added: 0.1.0
description:
  - Runs a command in a running container, like M(community.docker.docker_container_exec), and returns its output
    and exit status.
  - Always reports a change, like M(ansible.builtin.command); use C(changed_when) to say otherwise.
  - A non-zero exit status fails the task (Ansible treats a non-zero C(rc) as a failure); use C(failed_when) to
    decide otherwise.
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: partial
    details: In check mode the command is not run; the module reports that it would be.
  diff_mode:
    support: none
  idempotent:
    support: none
options:
  container:
    description: Name or ID of the container.
    type: str
    required: true
  argv:
    description: The command as a list of arguments. Exactly one of O(argv) and O(command) is needed.
    type: list
    elements: str
  command:
    description: The command as a string, split like a shell would (no shell runs it).
    type: str
  chdir:
    description: Working directory of the command.
    type: str
  detach:
    description: Start the command and return at once, without its output.
    type: bool
    default: false
  user:
    description: User (and group) the command runs as.
    type: str
  stdin:
    description:
      - Data sent to the command's standard input, which is then closed.
      - Not with O(detach=true) or O(tty=true); the task fails naming O(stdin).
    type: str
  stdin_add_newline:
    description: Add a newline to O(stdin).
    type: bool
    default: true
  strip_empty_ends:
    description: Remove trailing empty lines from the output.
    type: bool
    default: true
  tty:
    description: Allocate a pseudo-terminal.
    type: bool
    default: false
  env:
    description: Extra environment variables; values must be strings.
    type: dict
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_container_exec
"""

EXAMPLES = r"""
- name: Run a database migration inside the app container
  berth.engine.container_exec:
    container: app
    argv: [app, migrate]
  register: migrate

- name: Show its output
  ansible.builtin.debug:
    var: migrate.stdout_lines
"""

RETURN = r"""
stdout:
  description: Standard output of the command.
  returned: success and O(detach=false)
  type: str
stderr:
  description: Standard error of the command.
  returned: success and O(detach=false)
  type: str
rc:
  description: Exit status of the command.
  returned: success and O(detach=false)
  type: int
exec_id:
  description: ID of the detached exec session.
  returned: success and O(detach=true)
  type: str
actions:
  description: What the engine did (or would do).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.berth.engine.plugins.module_utils._kinds import run_exec


def main():
    run_exec()


if __name__ == "__main__":
    main()
