#!/usr/bin/env bash
# Benchmark the container runtime path (issue 3): `run --rm --network none` of a trivial command,
# `run -d` + `stop` + `rm`, and fifty detached containers (time to start them all, RSS of each
# container's monitor, time to remove them). Berth, bare `runc run` (the floor), and docker /
# podman when installed and working, side by side in one run. Medians and ratios are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
RUNS=${BENCH_RUNS:-15}
N=${BENCH_FLEET:-50}

command -v hyperfine >/dev/null || { echo "bench_containers: hyperfine not installed, skipped"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "bench_containers: needs root, skipped"; exit 0; }
command -v runc >/dev/null && command -v conmon >/dev/null || { echo "bench_containers: runc/conmon missing, skipped"; exit 0; }

W=$(mktemp -d /var/tmp/berth-bench-ctr-XXXXXX)
export PYTHONPATH=$REPO
BERTH=("$PY" -m engine --root "$W/root" --runroot "$W/run" --config "$W/config.toml")
B="${BERTH[*]}"
cleanup() {
  set +e
  cd /
  ids=$("${BERTH[@]}" ps -aq 2>/dev/null)
  [ -n "$ids" ] && "${BERTH[@]}" rm -f $ids >/dev/null 2>&1
  runc --root "$W/runc-floor" delete -f bench-floor >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap "exit 1" INT TERM
mkdir -p "$W/root" "$W/run" "$W/floor/rootfs"
touch "$W/config.toml"

"$PY" -c "
from pathlib import Path
from tests.fixtures.images import build_busybox_rootfs
build_busybox_rootfs(Path('$W/rootfs.tar'))"
"${BERTH[@]}" import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-test/busybox:latest >/dev/null
IMG=berth-test/busybox:latest

# the floor: a bare runc bundle of the same rootfs
tar -xf "$W/rootfs.tar" -C "$W/floor/rootfs"
(cd "$W/floor" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)

median() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$1"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A RESULT
bench() {  # name command...
  local name=$1; shift
  hyperfine -N -w 2 -r "$RUNS" --export-json "$W/h.json" "$@" >/dev/null 2>&1 || { echo "  $name: failed"; return; }
  RESULT[$name]=$(median "$W/h.json")
  printf "  %-42s %8.3f s\n" "$name" "${RESULT[$name]}"
}

bench_sh() {  # name "shell command"
  local name=$1; shift
  hyperfine -w 1 -r "$RUNS" --export-json "$W/h.json" "$@" >/dev/null 2>&1 || { echo "  $name: failed"; return; }
  RESULT[$name]=$(median "$W/h.json")
  printf "  %-42s %8.3f s\n" "$name" "${RESULT[$name]}"
}

echo "== run --rm --network none (trivial command), median of $RUNS"
bench "runc run (floor)" "runc --root $W/runc-floor run --bundle $W/floor bench-floor"
bench "berth run --rm" "$B run --rm --network none $IMG true"
HAVE_DOCKER=0; HAVE_PODMAN=0
if command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1 && docker image inspect busybox >/dev/null 2>&1; then
  HAVE_DOCKER=1
  bench "docker run --rm" "docker run --rm --network none busybox true"
fi
if command -v podman >/dev/null && podman image exists busybox 2>/dev/null; then
  HAVE_PODMAN=1
  bench "podman run --rm" "podman run --rm --network none busybox true"
fi

echo "== run -d + stop + rm (a process that exits on SIGTERM), median of $RUNS"
STOPPABLE="sh -c 'trap \"exit 0\" TERM; sleep 600 & wait'"
bench_sh "berth run -d; stop; rm" "$B run -d --name bench1 --network none $IMG $STOPPABLE >/dev/null && $B stop bench1 >/dev/null && $B rm bench1 >/dev/null"
if [ "$HAVE_DOCKER" = 1 ]; then
  bench_sh "docker run -d; stop; rm" "docker run -d --name bench1 --network none busybox $STOPPABLE >/dev/null && docker stop bench1 >/dev/null && docker rm bench1 >/dev/null"
fi

echo "== $N detached containers"
t0=$(date +%s.%N)
for i in $(seq 1 "$N"); do "${BERTH[@]}" run -d --network none --name "fleet$i" "$IMG" sleep 600 >/dev/null; done
t1=$(date +%s.%N)
total=0; count=0
for pidf in "$W"/run/conmon/*/conmon.pid; do
  r=$(rss_kib "$(cat "$pidf")"); total=$((total + r)); count=$((count + 1))
done
running=$("${BERTH[@]}" ps -q | wc -l)
t2=$(date +%s.%N)
"${BERTH[@]}" rm -f $("${BERTH[@]}" ps -aq) >/dev/null
t3=$(date +%s.%N)
"$PY" - "$t0" "$t1" "$t2" "$t3" "$N" "$total" "$count" "$running" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5]); n, total, count, running = map(int, sys.argv[5:9])
print(f"  start {n} (sequential run -d):            {t1 - t0:8.2f} s  ({(t1 - t0) / n:.3f} s each), {running} running")
rss = total / max(count, 1) / 1024
print(f"  monitor (conmon) RSS per container:       {rss:8.2f} MiB  (target <= 12.9/5 = 2.58 MiB; "
      f"ratio to containerd-shim 12.9 MiB: {rss / 12.9:.2f})")
print(f"  remove {n} (one rm -f):                    {t3 - t2:8.2f} s")
PY

echo "== ratios"
"$PY" - "${RESULT[berth run --rm]:-0}" "${RESULT[runc run (floor)]:-0}" "${RESULT[docker run --rm]:-}" \
  "${RESULT[podman run --rm]:-}" <<'PY'
import sys
berth, floor = float(sys.argv[1]), float(sys.argv[2])
docker = float(sys.argv[3]) if sys.argv[3] else None
podman = float(sys.argv[4]) if sys.argv[4] else None
if floor:
    print(f"  berth run --rm / runc run:  {berth / floor:6.2f}x")
ref = docker if docker else 0.28
src = "measured" if docker else "issue's reference 0.28 s (docker not available here)"
print(f"  berth run --rm / docker:    {berth / ref:6.2f}x  ({src}; target <= 0.5x)")
if podman:
    print(f"  berth run --rm / podman:    {berth / podman:6.2f}x")
PY
