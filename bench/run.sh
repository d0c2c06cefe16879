#!/usr/bin/env bash
# `make bench`: install the reference tools (scripts/install-bench-deps.sh), start a private
# dockerd (pidfile, own data/exec root, no iptables changes) and point podman at a private
# storage and containers.conf, run every bench/bench_*.sh (each bounded by a timeout) with its
# output in bench/out/NAME.txt, print a summary, and stop/remove everything it started.
#
# docker and podman are reference points only; Berth never uses them.
# Env: BENCH_ONLY="pull containers" (a subset), BENCH_TIMEOUT (per script, s, default 540).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=$REPO/bench/out
mkdir -p "$OUT"
bash scripts/install-bench-deps.sh || echo "bench: install-bench-deps failed; comparisons may be skipped"
# Byte-compile the engine as a pip install on a host does: with PYTHONDONTWRITEBYTECODE set (as in
# some shells) every `berth` call would otherwise compile its modules again.
env -u PYTHONDONTWRITEBYTECODE "$REPO/.venv/bin/python" -m compileall -q engine pulumi_provider/pulumi_berth >/dev/null

# Reference engines' stores on tmpfs when it has room, like bench_pull's stores for Berth.
if [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 8000000 ] 2>/dev/null; then
  REFS=/dev/shm/berth-bench-refs
else
  REFS=/var/tmp/berth-bench-refs
fi
export BENCH_VENV=${BENCH_VENV:-/var/tmp/berth-bench-ansible-venv}
# Debian's docker CLI, matching the Debian dockerd started here.
export PATH=/usr/bin:/usr/sbin:$PATH
STARTED_DOCKERD=0

start_refs() {
  mkdir -p "$REFS/podman"
  # podman: private storage; cgroupfs (PID 1 is not systemd); rlimits within this host's hard
  # limits (no CAP_SYS_RESOURCE here, podman's defaults ask for more and runc fails).
  cat > "$REFS/podman/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$REFS/podman/root"
runroot = "$REFS/podman/run"
CONF
  cat > "$REFS/podman/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  export CONTAINERS_STORAGE_CONF=$REFS/podman/storage.conf CONTAINERS_CONF=$REFS/podman/containers.conf

  if command -v dockerd >/dev/null && ! timeout 5 docker info >/dev/null 2>&1; then
    mkdir -p "$REFS/docker"
    # --iptables=false: leave the host firewall (and Berth's nft table) alone; published ports
    # on loopback go through docker-proxy, which is docker's loopback path anyway.
    setsid dockerd --data-root "$REFS/docker/data" --exec-root "$REFS/docker/exec" \
      --pidfile "$REFS/docker/dockerd.pid" -H "unix://$REFS/docker/docker.sock" \
      --iptables=false --ip-masq=false --bip 10.213.213.1/24 --storage-driver overlay2 \
      >"$OUT/dockerd.log" 2>&1 < /dev/null &
    STARTED_DOCKERD=1
    export DOCKER_HOST=unix://$REFS/docker/docker.sock
    for _ in $(seq 60); do timeout 5 docker info >/dev/null 2>&1 && break; sleep 0.5; done
    timeout 5 docker info >/dev/null 2>&1 || echo "bench: dockerd did not come up (see $OUT/dockerd.log)"
  fi
}

stop_refs() {
  set +e
  if command -v podman >/dev/null && [ -n "${CONTAINERS_STORAGE_CONF:-}" ]; then
    timeout 60 podman rm -af -t 0 >/dev/null 2>&1
    timeout 60 podman system reset -f >/dev/null 2>&1
    # podman's shared-memory lock segment (only podman uses it; no other podman runs here)
    [ -d "$REFS/podman" ] && rm -f /dev/shm/libpod_lock
    rmdir /run/containers/networks /run/containers 2>/dev/null  # only when podman left them empty
  fi
  if [ "$STARTED_DOCKERD" = 1 ]; then
    timeout 60 docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1
    pid=$(cat "$REFS/docker/dockerd.pid" 2>/dev/null)
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    ip link del docker0 2>/dev/null
  fi
  grep -o " $REFS[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$REFS"
}
trap stop_refs EXIT
trap "exit 1" INT TERM
start_refs

names=()
for f in bench/bench_*.sh; do
  n=$(basename "$f" .sh); n=${n#bench_}
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $n "* ]]; then continue; fi
  names+=("$n")
done
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(nproc) cores, $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "docker: $(timeout 5 docker version --format '{{.Server.Version}}' 2>/dev/null || echo none)"
  echo "podman: $(podman --version 2>/dev/null || echo none)"
} > "$OUT/summary.txt"
for n in "${names[@]}"; do
  echo "===== bench_$n ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$OUT/$n.txt"
  start=$(date +%s)
  timeout --kill-after=10 "${BENCH_TIMEOUT:-540}" bash "bench/bench_$n.sh" 2>&1 | tee -a "$OUT/$n.txt"
  rc=${PIPESTATUS[0]}
  end=$(date +%s)
  echo "----- bench_$n: exit $rc, $((end - start)) s, load after $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/$n.txt"
  {
    echo
    echo "== $n (exit $rc, $((end - start)) s, load before: $(head -1 "$OUT/$n.txt" | sed 's/.*load \(.*\))/\1/'))"
    grep -E -i "^ *berth |ratio|target|median|berth/| x[0-9]|req/s|RSS|start [0-9]|remove [0-9]|first run|no-op|execs|[0-9] s$|[0-9] ms|  [0-9.]+ s  " "$OUT/$n.txt" \
      | grep -v -E "^=====|^-----|Benchmark [0-9]|Time \(mean|Range \(min" | sed 's/^ */  /'
  } >> "$OUT/summary.txt"
done
"$REPO/.venv/bin/python" bench/results.py "$OUT" > "$OUT/RESULTS.md" 2>/dev/null || true
echo
echo "################ bench summary ($OUT/summary.txt; tables in $OUT/RESULTS.md)"
cat "$OUT/summary.txt"
