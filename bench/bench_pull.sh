#!/usr/bin/env bash
# Cold pull benchmark: a ~150 MB three-layer image (many small files, one large file, one tiny
# layer) generated locally, pushed to a local docker-registry, then pulled into an empty store by
# Berth, copied by `skopeo copy` into an OCI dir, pulled by docker/podman when their daemons are
# usable, and unpacked by GNU `tar -xzf` of the same layers (the floor). hyperfine times each; the
# medians and Berth's ratio to each are printed.
#
# Env: BENCH_RUNS (default 5), BENCH_SCALE (image size factor, default 1.0), BENCH_DIR (where stores
# are written; default a tmpfs under /dev/shm when it has room, so the numbers measure the tools and
# not a shared disk's writeback).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
RUNS=${BENCH_RUNS:-5}
SCALE=${BENCH_SCALE:-1.0}
for t in hyperfine skopeo docker-registry tar; do
  command -v "$t" >/dev/null || { echo "bench_pull: $t not found, skipping"; exit 0; }
done

if [ -z "${BENCH_DIR:-}" ]; then
  if [ -d /dev/shm ] && [ "$(df --output=avail -k /dev/shm | tail -1)" -gt 2000000 ]; then
    BENCH_DIR=$(mktemp -d /dev/shm/berth-bench-pull.XXXXXX)
  else
    BENCH_DIR=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
  fi
else
  mkdir -p "$BENCH_DIR"; BENCH_DIR=$(mktemp -d "$BENCH_DIR/berth-bench-pull.XXXXXX")
fi
SRC=$(mktemp -d /var/tmp/berth-bench-src.XXXXXX)
REG_PID=""
REF=""
cleanup() {
  if [ -n "$REF" ]; then
    command -v docker >/dev/null && timeout 30 docker rmi -f "$REF" >/dev/null 2>&1
    command -v podman >/dev/null && timeout 30 podman rmi -f "$REF" >/dev/null 2>&1
  fi
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null || true
  rm -rf "$BENCH_DIR" "$SRC"
}
trap cleanup EXIT

echo "== bench_pull: generating the image (scale $SCALE)"
"$PY" bench/pull_make_image.py "$SRC" "$SCALE"

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$SRC/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $SRC/registry
http:
  addr: 127.0.0.1:$PORT
YML
docker-registry serve "$SRC/registry.yml" >"$SRC/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
REF=127.0.0.1:$PORT/bench/pull:1
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$SRC/oci:latest" "docker://$REF"

B=$BENCH_DIR
BERTH="$PY -m engine --root $B/berth/root --runroot $B/berth/run --config $B/none.toml"
export PYTHONPATH=$REPO
cmds=(
  --command-name berth  --prepare "rm -rf $B/berth" "$BERTH pull -q $REF"
  --command-name skopeo --prepare "rm -rf $B/skopeo" "skopeo --insecure-policy copy -q --src-tls-verify=false docker://$REF oci:$B/skopeo:latest"
  --command-name tar-floor --prepare "rm -rf $B/tar && mkdir -p $B/tar/0 $B/tar/1 $B/tar/2"
    "tar -xzf $SRC/layers/layer0.tar.gz -C $B/tar/0 && tar -xzf $SRC/layers/layer1.tar.gz -C $B/tar/1 && tar -xzf $SRC/layers/layer2.tar.gz -C $B/tar/2"
)
# docker treats 127.0.0.0/8 registries as insecure (plain HTTP) by default; podman is told.
if command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1; then
  cmds+=(--command-name docker --prepare "docker rmi -f $REF >/dev/null 2>&1 || true" "docker pull -q $REF")
else
  echo "(docker: no usable daemon, skipped)"
fi
if command -v podman >/dev/null && timeout 5 podman info >/dev/null 2>&1; then
  cmds+=(--command-name podman --prepare "podman rmi -f $REF >/dev/null 2>&1 || true" "podman pull -q --tls-verify=false $REF")
else
  echo "(podman: not installed or not usable, skipped)"
fi

echo "== bench_pull: $RUNS runs each, stores under $B"
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$SRC/results.json" "${cmds[@]}"

# Interop with docker's archive format (docker is a reference here, never a dependency of Berth):
# `docker save` -> `berth load` and `berth save` -> `docker load` keep the image ID (config digest).
if command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1 && docker image inspect "$REF" >/dev/null 2>&1; then
  did=$(docker image inspect -f '{{.Id}}' "$REF")
  docker save -o "$SRC/docker-save.tar" "$REF"
  IBERTH="$PY -m engine --root $B/interop/root --runroot $B/interop/run --config $B/none.toml"
  $IBERTH load -q -i "$SRC/docker-save.tar" >/dev/null
  bid=$($IBERTH image inspect --format json "$REF" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print((d[0] if isinstance(d, list) else d)["Id"])')
  $IBERTH save -o "$SRC/berth-save.tar" "$REF"
  docker rmi -f "$REF" >/dev/null
  docker load -q -i "$SRC/berth-save.tar" >/dev/null
  did2=$(docker image inspect -f '{{.Id}}' "$REF")
  echo "== bench_pull: archive interop with docker"
  echo "  docker save -> berth load: $([ "$did" = "$bid" ] && echo "same image ID" || echo "MISMATCH ($did vs $bid)")"
  echo "  berth save -> docker load: $([ "$did" = "$did2" ] && echo "same image ID" || echo "MISMATCH ($did vs $did2)")"
  rm -rf "$B/interop" "$SRC/docker-save.tar" "$SRC/berth-save.tar"
fi

"$PY" - "$SRC/results.json" <<'PYEOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print("\n== bench_pull: medians (s) and Berth's ratio to each; CPU = user+sys incl. children (mean)")
b = res["berth"]["median"]
bc = res["berth"]["user"] + res["berth"]["system"]
for name, r in res.items():
    m = r["median"]
    cpu = r["user"] + r["system"]
    ratio = "" if name == "berth" else f"   berth/{name} = {b / m:.2f}x (CPU {bc / cpu:.2f}x)"
    print(f"  {name:<10} {m:7.3f}  CPU {cpu:6.3f}{ratio}")
if "docker" in res:
    print(f"  target berth <= 0.8x docker: {'met' if b <= 0.8 * res['docker']['median'] else 'NOT met'}")
print(f"  target berth <= 1.3x tar floor: {'met' if b <= 1.3 * res['tar-floor']['median'] else 'NOT met'}")
PYEOF
