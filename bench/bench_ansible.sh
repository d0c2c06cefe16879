#!/usr/bin/env bash
# Benchmark the berth.engine collection: a playbook of 20 containers on one network, applied
# over SSH (loopback sshd, as in the integration tests) — the first run (everything created)
# and the no-op rerun (nothing changes). And the same playbook with community.docker's modules
# against a local dockerd, when one runs here and community.docker is installed. hyperfine;
# medians and ratios printed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
RUNS=${BENCH_RUNS:-3}

command -v hyperfine >/dev/null || { echo "bench_ansible: hyperfine not installed, skipped"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "bench_ansible: needs root, skipped"; exit 0; }
[ -x /usr/sbin/sshd ] || { echo "bench_ansible: needs sshd, skipped"; exit 0; }

W=$(mktemp -d "$(bash bench/workdir.sh)/berth-bench-ansible-XXXXXX")
export PYTHONPATH=$REPO
# The engine on the target is this tree's; the host role installs it with pip, which compiles its
# bytecode. Do the same, or every `berth apply` (run with PYTHONDONTWRITEBYTECODE=1) recompiles it.
env -u PYTHONDONTWRITEBYTECODE "$PY" -m compileall -q "$REPO/engine" >/dev/null 2>&1 || true
# Sets up sshd, the engine root, the test image, inventory and ansible.cfg; prints shell
# assignments (SSHD_PID, ANSIBLE_CONFIG, INV, BERTH_ARGS).
eval "$("$PY" bench/_ansible_bench.py setup "$W")"
cleanup() {
  set +e
  cd /
  ANSIBLE_CONFIG=$ANSIBLE_CONFIG "$REPO/.venv/bin/ansible-playbook" -i "$INV" "$W/down.yml" >/dev/null 2>&1
  if [ -n "${DOCKER_IMPORTED:-}" ]; then
    "${DPLAY[@]}" "$W/docker_down.yml" >/dev/null 2>&1
    docker rmi -f berth-test/busybox:latest >/dev/null 2>&1
  fi
  [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap "exit 1" INT TERM
export ANSIBLE_CONFIG

PLAY=("$REPO/.venv/bin/ansible-playbook" -i "$INV")
echo "bench_ansible: 20 containers on one network, berth.engine over SSH to 127.0.0.1 ($RUNS runs each)"
hyperfine --style basic --runs "$RUNS" \
  --prepare "${PLAY[*]} $W/down.yml >/dev/null" \
  --export-json "$W/first.json" -n "berth first run" "${PLAY[*]} $W/up.yml"
# leave the stack up for the no-op reruns
"${PLAY[@]}" "$W/up.yml" >/dev/null
hyperfine --style basic --runs "$((RUNS + 2))" --warmup 1 \
  --export-json "$W/noop.json" -n "berth no-op rerun" "${PLAY[*]} $W/up.yml"
"$PY" bench/_ansible_bench.py check-noop "$W"

# community.docker against dockerd: the `ansible` bundle (same ansible-core series) and the
# Docker SDK live in a separate venv (scripts/install-bench-deps.sh), never in the project's.
BENCH_VENV=${BENCH_VENV:-/var/tmp/berth-bench-ansible-venv}
docker_note=""
if ! command -v docker >/dev/null 2>&1 || ! timeout 10 docker info >/dev/null 2>&1; then
  docker_note="no dockerd running here: community.docker comparison not run"
elif ! "$BENCH_VENV/bin/ansible-doc" community.docker.docker_container >/dev/null 2>&1; then
  docker_note="community.docker not installed ($BENCH_VENV; scripts/install-bench-deps.sh): comparison not run"
else
  docker import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-test/busybox:latest >/dev/null
  DOCKER_IMPORTED=1
  DPLAY=("$BENCH_VENV/bin/ansible-playbook" -i "$INV" -e "ansible_python_interpreter=$BENCH_VENV/bin/python"
         -e "docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}")
  hyperfine --style basic --runs "$RUNS" \
    --prepare "${DPLAY[*]} $W/docker_down.yml >/dev/null" \
    --export-json "$W/docker_first.json" -n "community.docker first run" "${DPLAY[*]} $W/docker_up.yml"
  "${DPLAY[@]}" "$W/docker_up.yml" >/dev/null
  hyperfine --style basic --runs "$((RUNS + 2))" --warmup 1 \
    --export-json "$W/docker_noop.json" -n "community.docker no-op rerun" "${DPLAY[*]} $W/docker_up.yml"
  "${DPLAY[@]}" "$W/docker_down.yml" >/dev/null
fi
"$PY" bench/_ansible_bench.py report "$W" "$docker_note"
