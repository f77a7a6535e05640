# Sourced by the image scripts (scripts/image-*.sh): podman settings and the helpers they share.
# The podman settings are the ones that work on these machines (vfs storage, runc, cgroupfs, rlimits within the
# machine's hard limits: podman's defaults are above them and runc's setrlimit fails).
podman_conf_dir=${PODMAN_CONF_DIR:-${TMPDIR:-/tmp}/admission-gate-podman}
mkdir -p "$podman_conf_dir"
# nproc: the shell's hard limit (96362 on these VMs) is still refused by runc's setrlimit; 32768 is accepted, and
# the gate needs a few dozen threads.
nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s","nproc=%s:%s"]\n' \
  "$(ulimit -Hn)" "$(ulimit -Hn)" "$nproc" "$nproc" >"$podman_conf_dir/containers.conf"
export CONTAINERS_CONF=$podman_conf_dir/containers.conf
PODMAN_FLAGS=(--storage-driver vfs --runtime runc --cgroup-manager cgroupfs)
pm() { podman "${PODMAN_FLAGS[@]}" "$@"; }

# The run flags the issue asks for: read-only root, unprivileged user, no capabilities, no privilege gain.
RUN_FLAGS=(--read-only --user 65532:65532 --cap-drop ALL --security-opt no-new-privileges --network host)

IMAGE_DIR=${IMAGE_DIR:-artifacts/image}
IMAGE_NAME=${IMAGE_NAME:-localhost/admission-gate}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A serving certificate for 127.0.0.1 in DIR (tls.crt, tls.key), readable by UID 65532 (mounted read-only).
make_cert() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=admission-gate \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
  chmod 0644 "$dir/tls.key" "$dir/tls.crt"
}

# Polls https://127.0.0.1:PORT/readyz until 200 or TIMEOUT seconds; returns non-zero on timeout.
wait_ready() {
  local port=$1 timeout=${2:-20} ca=$3 deadline
  deadline=$(($(date +%s%N) + timeout * 1000000000))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" "https://127.0.0.1:$port/readyz")" = 200 ]; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.01
  done
}

# Milliseconds from `podman start` of a created container to its first /readyz 200 (prints the number).
ready_ms() {
  local container=$1 port=$2 ca=$3 start
  start=$(date +%s%N)
  pm start "$container" >/dev/null
  wait_ready "$port" 20 "$ca" || { pm logs "$container" >&2; return 1; }
  echo $((($(date +%s%N) - start) / 1000000))
}

# The manifest digest of the single image in an OCI layout directory.
layout_digest() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"])' "$1"; }
