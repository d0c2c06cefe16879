#!/usr/bin/env bash
# Benchmark `berth build`: FROM the busybox test image, five RUN steps, COPY of a 20 MB context,
# ENV/WORKDIR/CMD. Cold (--no-cache) and warm (everything cached) with hyperfine; docker and
# podman side by side when they are installed *and* working. Prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
RUNS_COLD=${RUNS_COLD:-5}
RUNS_WARM=${RUNS_WARM:-10}

command -v hyperfine >/dev/null || { echo "bench_build: hyperfine not installed, skipped"; exit 0; }
[ -x /bin/busybox ] || { echo "bench_build: /bin/busybox missing, skipped"; exit 0; }

W=$(mktemp -d "$(bash bench/workdir.sh)/berth-bench-build-XXXXXX")
HAVE_DOCKER=0; HAVE_PODMAN=0
cleanup() {
  set +e
  cd /
  [ "$HAVE_DOCKER" = 1 ] && docker rmi -f bench:cold bench:warm berth-test/busybox:latest >/dev/null 2>&1
  [ "$HAVE_PODMAN" = 1 ] && { podman rmi -f bench:cold bench:warm localhost/berth-test/busybox:latest >/dev/null 2>&1;
                               podman image prune -f >/dev/null 2>&1; }
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
mkdir -p "$W/root" "$W/run" "$W/ctx/data"
touch "$W/config.toml"
BERTH=("$PY" -m engine --root "$W/root" --runroot "$W/run" --config "$W/config.toml")

PYTHONPATH=$REPO "$PY" -c "
from pathlib import Path
from tests.fixtures.images import build_busybox_rootfs
build_busybox_rootfs(Path('$W/rootfs.tar'))"
PYTHONPATH=$REPO "${BERTH[@]}" import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-test/busybox:latest >/dev/null

for i in $(seq 1 20); do head -c 1048576 /dev/urandom > "$W/ctx/data/blob$i.bin"; done
cat > "$W/ctx/Dockerfile" <<'EOF'
FROM berth-test/busybox:latest
ENV APP_HOME=/app MODE=bench
WORKDIR /app
RUN echo one > /one
RUN mkdir -p /var/cache/app && echo two > /var/cache/app/two
RUN for i in 1 2 3 4 5; do echo $i >> /three; done
RUN rm -f /etc/os-release
RUN adduser -D -H benchuser 2>/dev/null || echo benchuser:x:2000:2000::/:/bin/sh >> /etc/passwd
COPY data/ /app/data/
CMD ["ls", "/app/data"]
EOF

cd "$W"
export PYTHONPATH=$REPO
"${BERTH[@]}" build -q -t bench:warm ctx >/dev/null   # fill the cache for the warm runs
cmds=(-n berth-cold "${BERTH[*]} build -q --no-cache -t bench:cold ctx"
      -n berth-cold-nonet "${BERTH[*]} build -q --no-cache --network none -t bench:cold ctx"
      -n berth-warm "${BERTH[*]} build -q -t bench:warm ctx")
others=()
if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
  HAVE_DOCKER=1
  docker import -c 'CMD ["sh"]' rootfs.tar berth-test/busybox:latest >/dev/null
  DOCKER_BUILDKIT=0 docker build -q -t bench:warm ctx >/dev/null
  cmds+=(-n docker-cold "env DOCKER_BUILDKIT=0 docker build -q --no-cache -t bench:cold ctx"
         -n docker-warm "env DOCKER_BUILDKIT=0 docker build -q -t bench:warm ctx")
  others+=(docker)
else
  echo "bench_build: docker not installed or its daemon is not running: not compared"
fi
if command -v podman >/dev/null && timeout 10 podman info >/dev/null 2>&1; then
  HAVE_PODMAN=1
  podman import -q -c 'CMD ["sh"]' rootfs.tar localhost/berth-test/busybox:latest >/dev/null
  # RUN without a network: podman's default build network would add netavark firewall rules
  # and a bridge to this host; compare with berth-cold-nonet.
  podman build -q --network none -t bench:warm ctx >/dev/null
  cmds+=(-n podman-cold-nonet "podman build -q --no-cache --network none -t bench:cold ctx"
         -n podman-warm "podman build -q --network none -t bench:warm ctx")
  others+=(podman)
else
  echo "bench_build: podman not installed or not working: not compared"
fi

# cold and warm runs have different counts: run hyperfine per command
results=()
for ((i = 0; i < ${#cmds[@]}; i += 3)); do  # entries are: -n NAME COMMAND
  name=${cmds[i+1]}
  cmd=${cmds[i+2]}
  runs=$RUNS_WARM
  [[ $name == *cold* ]] && runs=$RUNS_COLD
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$W/$name.json" -n "$name" "$cmd" >/dev/null
  results+=("$name")
done

"$PY" - "$W" "${results[@]}" <<'EOF'
import json, sys
w, names = sys.argv[1], sys.argv[2:]
med = {n: json.load(open(f"{w}/{n}.json"))["results"][0]["median"] for n in names}
print("berth build benchmark (20 MB context, 5 RUN steps; cold-nonet = RUN with --network none), medians:")
for n in names:
    print(f"  {n:<17} {med[n]:8.3f} s")
for tool in ("docker", "podman"):
    for kind in ("cold", "cold-nonet", "warm"):
        if f"{tool}-{kind}" in med:
            print(f"  ratio berth/{tool} {kind}: {med[f'berth-{kind}'] / med[f'{tool}-{kind}']:.2f}")
if "docker-cold" in med:
    print(f"  target cold <= docker's: {'met' if med['berth-cold'] <= med['docker-cold'] else 'NOT met'}")
print(f"  target warm < 0.5 s: {'met' if med['berth-warm'] < 0.5 else 'NOT met'} ({med['berth-warm']:.3f} s)")
EOF
