#!/usr/bin/env bash
# Install what the test suite, the demo and the benchmarks need on a Debian 12 machine.
# Idempotent: packages already installed are not asked for again, the venv is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  runc conmon nftables iproute2 tini golang-github-containers-common busybox-static
  skopeo docker-registry apache2-utils openssh-server sshpass
  python3-venv python3-dev zstd hyperfine wrk rsync kmod procps psmisc bsdutils
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker-registry package starts a daemon on :5000 from its own unit; we run our own.

PY=/usr/bin/python3
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.deps-stamp"
# editable_mode=compat: a plain path entry in a .pth file, not setuptools' import-hook finder,
# which every Python start in the venv would import (~13 ms per `berth` call, in every test and
# bench; the host role installs a wheel, which has no hook either).
EDITABLE=(--config-settings editable_mode=compat)
want=$( { cat pyproject.toml requirements-dev.txt; cat pulumi_provider/pyproject.toml 2>/dev/null || true; echo "${EDITABLE[*]}"; } | sha256sum | cut -d" " -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r requirements-dev.txt
  "$VENV/bin/pip" install -q "${EDITABLE[@]}" -e .
  if [ -f pulumi_provider/pyproject.toml ]; then "$VENV/bin/pip" install -q "${EDITABLE[@]}" -e pulumi_provider; fi
  echo "$want" > "$stamp"
fi
