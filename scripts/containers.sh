#!/usr/bin/env bash
# Local container plumbing for the demo and the Molecule tests, on a machine that has no
# registry and whose PID 1 may not be systemd:
#   containers.sh engine          install (Debian's docker.io) and start a Docker engine if none answers
#   containers.sh images          build the systemd base images from Debian's mirror if missing
#   containers.sh demo-up         start the demo target containers (idempotent)
#   containers.sh demo-down       remove them
# Environment knobs: WSGI_IMAGE_PREFIX (default wsgi-systemd), WSGI_SUITES (default "bookworm trixie"),
# WSGI_DEMO_APACHE_PORT (default 8080), WSGI_DEMO_NGINX_PORT (default 8081), their HTTPS ports
# WSGI_DEMO_APACHE_TLS_PORT (default 8443), WSGI_DEMO_NGINX_TLS_PORT (default 8444), WSGI_MIRROR.
set -euo pipefail

PREFIX=${WSGI_IMAGE_PREFIX:-wsgi-systemd}
SUITES=${WSGI_SUITES:-bookworm trixie}
APACHE_PORT=${WSGI_DEMO_APACHE_PORT:-8080}
NGINX_PORT=${WSGI_DEMO_NGINX_PORT:-8081}
APACHE_TLS_PORT=${WSGI_DEMO_APACHE_TLS_PORT:-8443}
NGINX_TLS_PORT=${WSGI_DEMO_NGINX_TLS_PORT:-8444}
DEMO_SUITE=${WSGI_DEMO_SUITE:-bookworm}
HERE=$(cd "$(dirname "$0")" && pwd)

log() { printf '==> %s\n' "$*" >&2; }

# Flags that boot systemd as PID 1 without --privileged (see README "Containers").
SYSTEMD_FLAGS=(--cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
  --tmpfs /run --tmpfs /run/lock --tmpfs /tmp)

mirror() {
  if [ -n "${WSGI_MIRROR:-}" ]; then echo "$WSGI_MIRROR"; return; fi
  local m=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  elif [ -r /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

apt_install() {
  if [ -z "${_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

cmd_engine() {
  if docker info >/dev/null 2>&1; then
    log "Docker engine already answers"
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { echo "need root to install docker.io" >&2; exit 1; }
    log "Installing Debian's docker.io"
    apt_install docker.io containerd runc iptables ca-certificates
  fi
  if ! command -v docker >/dev/null 2>&1; then apt_install docker-cli || true; fi
  log "Starting dockerd (log: /var/log/dockerd.log)"
  # Detached from our stdio so that CI pipes are not held open.
  setsid dockerd </dev/null >>/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then log "Docker engine is up"; return; fi
    sleep 0.5
  done
  echo "dockerd did not come up; see /var/log/dockerd.log" >&2
  tail -n 20 /var/log/dockerd.log >&2 || true
  exit 1
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

build_base() {
  local suite=$1
  local base="$PREFIX-base:$suite"
  if have_image "$base"; then return; fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  local dir
  dir=$(mktemp -d /var/tmp/debootstrap-"$suite".XXXXXX)
  log "debootstrap $suite from $(mirror) (about a minute)"
  debootstrap --variant=minbase "$suite" "$dir" "$(mirror)" >/var/tmp/debootstrap-"$suite".log 2>&1 || {
    tail -n 30 /var/tmp/debootstrap-"$suite".log >&2
    exit 1
  }
  tar -C "$dir" -c . | docker import - "$base" >/dev/null
  rm -rf "$dir"
}

build_systemd() {
  local suite=$1
  local image="$PREFIX:$suite"
  if have_image "$image"; then log "image $image present"; return; fi
  build_base "$suite"
  local ctx
  ctx=$(mktemp -d)
  # The host's trusted CA bundle: lets pip inside the targets reach PyPI through a
  # TLS-inspecting egress. Targets get it the way a real fleet gets a corporate CA.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-bundle.crt"
  cp "$HERE/systemd-image.Dockerfile" "$ctx/Dockerfile"
  log "building $image"
  DOCKER_BUILDKIT=0 docker build -q --build-arg BASE="$PREFIX-base:$suite" -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
}

cmd_images() {
  for s in $SUITES; do build_systemd "$s"; done
}

run_target() {
  local name=$1 port=$2 tls_port=$3
  if docker container inspect "$name" >/dev/null 2>&1; then
    if ! docker inspect -f '{{json .HostConfig.PortBindings}}' "$name" | grep -q '"443/tcp"'; then
      log "container $name publishes no HTTPS port (made before the demo had HTTPS): recreating it"
      docker rm -f "$name" >/dev/null
    else
      if [ "$(docker inspect -f '{{.State.Running}}' "$name")" != true ]; then docker start "$name" >/dev/null; fi
      log "container $name is running (127.0.0.1:$port -> 80, 127.0.0.1:$tls_port -> 443)"
      return
    fi
  fi
  docker run -d --name "$name" --hostname "$name" "${SYSTEMD_FLAGS[@]}" \
    -p "127.0.0.1:$port:80" -p "127.0.0.1:$tls_port:443" --label wsgi-demo=1 "$PREFIX:$DEMO_SUITE" >/dev/null
  log "started $name (127.0.0.1:$port -> 80, 127.0.0.1:$tls_port -> 443)"
}

wait_systemd() {
  local name=$1 state=""
  for _ in $(seq 1 60); do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) return ;; esac
    sleep 0.5
  done
  echo "systemd in $name did not finish booting (state: ${state:-unknown})" >&2
  exit 1
}

cmd_demo_up() {
  cmd_engine
  SUITES=$DEMO_SUITE cmd_images
  run_target wsgi-demo-apache "$APACHE_PORT" "$APACHE_TLS_PORT"
  run_target wsgi-demo-nginx "$NGINX_PORT" "$NGINX_TLS_PORT"
  wait_systemd wsgi-demo-apache
  wait_systemd wsgi-demo-nginx
}

cmd_demo_down() {
  if ! docker info >/dev/null 2>&1; then log "no Docker engine: nothing to remove"; return; fi
  local ids
  ids=$(docker ps -aq --filter label=wsgi-demo=1)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null
    log "removed demo containers"
  else
    log "no demo containers"
  fi
}

case "${1:-}" in
  engine) cmd_engine ;;
  images) cmd_engine; cmd_images ;;
  demo-up) cmd_demo_up ;;
  demo-down) cmd_demo_down ;;
  *) echo "usage: $0 engine|images|demo-up|demo-down" >&2; exit 2 ;;
esac
