#!/usr/bin/env bash
# `make demo`: a plain Debian 12 machine to a running Berth stack, driven by Ansible over SSH.
#
#   1. start a throwaway sshd on 127.0.0.1 with generated keys (stopped again on exit)
#   2. ansible-playbook examples/site.yml against it: the role berth.engine.host (packages, the
#      engine in /opt/berth, /etc/berth/config.toml), then a network, a volume, a web image built
#      on the host from busybox-static (no registry, no internet), a web container with a
#      published port and a client container that reaches it by name
#   3. fetch the page through the published port and show `berth ps`
#
# Run it again: the play recap says changed=0. The stack stays up; `make demo-clean`
# (scripts/demo.sh clean) removes it: the containers demo-client and demo-web, the network
# demo-net, the volume demo-data, the image berth-examples/web:1 and its build context. The host
# role's install (/opt/berth, /etc/berth) stays.
# Environment: DEMO_PORT (default 8080), DEMO_VERBOSE=1 for ansible -v.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${DEMO_PORT:-8080}
BERTH=/opt/berth/bin/berth

if [ "$(id -u)" != 0 ]; then
  echo "demo: run as root (the engine manages runc, netlink and nftables)" >&2
  exit 1
fi
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "${1:-}" = clean ]; then
  if [ ! -x "$BERTH" ]; then echo "demo clean: no engine at $BERTH, nothing to remove"; exit 0; fi
  say "removing the demo stack (containers, network, volume, image, build context)"
  "$BERTH" rm -f demo-client demo-web 2>/dev/null || true
  for what in "network rm demo-net" "volume rm demo-data"; do
    # shellcheck disable=SC2086
    "$BERTH" $what >/dev/null 2>&1 || true
  done
  # the image stays while another stack (molecule's) still uses it
  "$BERTH" rmi berth-examples/web:1 2>/dev/null || true
  rm -rf /var/lib/berth-examples/demo-web
  rmdir /var/lib/berth-examples 2>/dev/null || true
  left=$("$BERTH" ps -a -q --filter name=demo- 2>/dev/null || true)
  if [ -n "$left" ] || "$BERTH" network inspect demo-net >/dev/null 2>&1 \
      || "$BERTH" volume inspect demo-data >/dev/null 2>&1; then
    echo "demo clean: something is left:" >&2
    "$BERTH" ps -a --filter name=demo- >&2
    exit 1
  fi
  echo "demo stack removed; the engine stays in /opt/berth (config /etc/berth/config.toml)"
  exit 0
fi

# --- 1. a throwaway sshd on loopback -----------------------------------------------------------
WORK=$(mktemp -d /var/tmp/berth-demo-XXXXXX)
SSHD_PID=""
cleanup() {
  for sock in "$WORK"/cp/*; do  # Ansible's ssh ControlPersist masters
    [ -S "$sock" ] && ssh -O exit -o ControlPath="$sock" demo-host 2>/dev/null || true
  done
  if [ -n "$SSHD_PID" ]; then kill "$SSHD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
chmod 700 "$WORK"
ssh-keygen -q -t ed25519 -N "" -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$WORK/id_ed25519"
cp "$WORK/id_ed25519.pub" "$WORK/authorized_keys"
chmod 600 "$WORK/authorized_keys"
SSH_PORT=$("$ROOT/.venv/bin/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
mkdir -p /run/sshd
cat > "$WORK/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel ERROR
CFG
say "starting a throwaway sshd on 127.0.0.1:$SSH_PORT (generated keys)"
/usr/sbin/sshd -f "$WORK/sshd_config"
for _ in $(seq 50); do [ -s "$WORK/sshd.pid" ] && break; sleep 0.1; done
SSHD_PID=$(cat "$WORK/sshd.pid")
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$WORK/host_key.pub")" > "$WORK/known_hosts"

cat > "$WORK/inventory.yml" <<INV
all:
  hosts:
    demo-host:
      ansible_host: 127.0.0.1
      ansible_port: $SSH_PORT
      ansible_user: root
      ansible_ssh_private_key_file: $WORK/id_ed25519
      ansible_ssh_common_args: -o UserKnownHostsFile=$WORK/known_hosts -o StrictHostKeyChecking=yes
      ansible_python_interpreter: /usr/bin/python3
INV

# --- 2. the playbook ----------------------------------------------------------------------------
# This tree is the collection berth.engine.
mkdir -p build/collections/ansible_collections/berth
ln -sfn "$ROOT" build/collections/ansible_collections/berth/engine
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
export ANSIBLE_PIPELINING=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_SSH_CONTROL_PATH_DIR="$WORK/cp"
say "ansible-playbook examples/site.yml (host role, network, volume, web image, web and client containers)"
"$ROOT/.venv/bin/ansible-playbook" ${DEMO_VERBOSE:+-v} -i "$WORK/inventory.yml" examples/site.yml \
  -e "demo_port=$PORT" | tee "$WORK/play.log"

# --- 3. the result ------------------------------------------------------------------------------
say "GET http://127.0.0.1:$PORT/ (the web container, through its published port)"
"$ROOT/.venv/bin/python" - "$PORT" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/"
for attempt in range(30):
    try:
        print(urllib.request.urlopen(url, timeout=5).read().decode(), end="")
        break
    except OSError as e:
        err = e
        time.sleep(0.5)
else:
    sys.exit(f"demo: {url} did not answer: {err}")
PY

say "the client container fetched it by name (demo-web) into the volume demo-data"
for _ in $(seq 20); do
  if "$BERTH" exec demo-client busybox cat /data/index.html 2>/dev/null | head -3; then break; fi
  sleep 0.5
done

say "berth ps"
"$BERTH" ps

changed=$(grep -A2 "PLAY RECAP" "$WORK/play.log" | grep -o "changed=[0-9]*" | head -1 | cut -d= -f2)
if [ "${changed:-1}" = 0 ]; then
  say "done: the play reported changed=0 (everything was already as declared)"
else
  say "done: the play made $changed changes; run 'make demo' again and it reports changed=0"
fi
