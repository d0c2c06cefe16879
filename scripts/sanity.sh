#!/usr/bin/env bash
# `ansible-test sanity` on the berth.engine collection (called by `make test`).
#
# ansible-test wants the collection at ansible_collections/<namespace>/<name>/; this repository
# is much more than the collection, so copy only what galaxy.yml ships (plugins, meta, roles,
# docs, README) into a temp tree, like `ansible-galaxy collection build` with build_ignore would.
# Runs with --local against the dev venv, whose requirements-dev.txt carries the sanity tools.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VENV=${VENV:-$REPO/.venv}
PY_VERSION=${SANITY_PYTHON:-3.11}

work=$(mktemp -d /var/tmp/berth-sanity-XXXXXX)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/berth/engine
mkdir -p "$dest"
for p in galaxy.yml README.md meta plugins roles docs tests/sanity; do
  if [ -e "$p" ]; then
    mkdir -p "$dest/$(dirname "$p")"
    cp -a "$p" "$dest/$p"
  fi
done
find "$dest" -name __pycache__ -prune -exec rm -rf {} +

# Scripts a role copies to the host and runs (roles/*/files/*.py) are not modules: their
# `#!/usr/bin/env python3` is right. Listed here rather than in tests/sanity/ignore-*.txt because
# they belong to the role, and ansible-test rejects ignore entries for files that are gone.
ignore=$dest/tests/sanity/ignore-$("$VENV/bin/python" -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))').txt
mkdir -p "$(dirname "$ignore")"
for f in "$dest"/roles/*/files/*.py; do
  [ -e "$f" ] || continue
  if head -1 "$f" | grep -q '^#!'; then echo "${f#"$dest"/} shebang" >> "$ignore"; fi
done

# ansible-test (>= 2.17) runs each sanity test in its own venv under ~/.ansible/test/venv (cached
# after the first run), bootstrapping pip with a script it downloads from a host that is not
# reachable here; put our stand-in where it looks for a cached copy.
pip_version=$("$VENV/bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="'"$PY_VERSION"'", path=""))["pip"])')
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -f "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$REPO/scripts/ansible_test_get_pip.py" "$cache"
fi

skip=()

cd "$dest"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$work"
"$VENV/bin/ansible-test" sanity --local --python "$PY_VERSION" --color no "${skip[@]}" "$@"
