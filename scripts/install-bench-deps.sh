#!/usr/bin/env bash
# Install what `make bench` needs besides the project's own deps (scripts/install-deps.sh):
# docker and podman from Debian as *reference points only* (Berth never uses them), and a
# separate virtualenv with the `ansible` bundle (community.docker) and the Docker SDK for the
# community.docker comparison in bench/bench_ansible.sh. Idempotent; nothing here is a
# dependency of Berth or of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(docker.io podman hyperfine wrk skopeo docker-registry bc iptables)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-bench-deps: apt installing ${missing[*]}"
  apt-get update -qq
  # policy-rc.d / no systemd: the packages' own services are not started; bench/run.sh starts a
  # private dockerd for the run and stops it afterwards.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# community.docker + Docker SDK, kept out of the project's venv and requirements.
BENCH_VENV=${BENCH_VENV:-/var/tmp/berth-bench-ansible-venv}
want="ansible>=12,<13 docker requests"
if [ ! -x "$BENCH_VENV/bin/ansible-playbook" ] || [ "$(cat "$BENCH_VENV/.bench-stamp" 2>/dev/null)" != "$want" ]; then
  echo "install-bench-deps: creating $BENCH_VENV (ansible bundle, docker SDK)"
  [ -x "$BENCH_VENV/bin/python" ] || /usr/bin/python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q 'ansible>=12,<13' docker requests
  echo "$want" > "$BENCH_VENV/.bench-stamp"
fi
