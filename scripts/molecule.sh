#!/usr/bin/env bash
# Run the molecule scenarios (run by `make test`): molecule/default converges the host role and
# the example stack on this machine over SSH to a throwaway loopback sshd, checks idempotence,
# verifies from the host, then removes the stack and stops the sshd.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# This tree is the collection berth.engine: put a snapshot of it on the collections path (a
# snapshot, so the engine the role installs stays the same between converge and idempotence
# even while the tree is being edited).
COLL="$ROOT/build/molecule/collections"
[ -L "$COLL/ansible_collections/berth/engine" ] && rm "$COLL/ansible_collections/berth/engine"
mkdir -p "$COLL/ansible_collections/berth/engine"
rsync -a --delete --exclude __pycache__ --exclude '*.pyc' \
  galaxy.yml meta plugins roles engine pyproject.toml README.md "$COLL/ansible_collections/berth/engine/"
export ANSIBLE_COLLECTIONS_PATH="$COLL"
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0

exec molecule test -s "${1:-default}"
