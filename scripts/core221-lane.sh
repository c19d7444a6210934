#!/usr/bin/env bash
# The ansible-core 2.21 lane of `make test`: one full Molecule scenario (default: `collection`, the
# tarball installed and run by FQCN; converge, idempotence, verify) with the newest ansible-core on
# a Python 3.13 controller, while the main lanes use ansible-core 2.19 on Python 3.11.
#
#   scripts/core221-lane.sh image            build the controller image if missing or out of date
#   scripts/core221-lane.sh run [SCENARIO]   build it if needed, then molecule test -s SCENARIO in it
#
# The controller is a container of the image wsgi-controller:trixie (Debian 13, the venv of
# requirements-core221.txt + constraints-core221.txt, scripts/controller-image.Dockerfile). The
# image carries a label with the hash of those three files and is rebuilt only when it changes.
# The controller drives the host's engine through its socket, so the targets are ordinary
# containers of the host (molecule.yml volumes are host paths), on the same bridge network as the
# controller (the tests reach the sites over HTTP at the targets' addresses). The repository is
# mounted at the same path as on the host. The target's name gets the suffix WSGI_MOL_SUFFIX
# (default -core221) so that it does not clash with the main lanes running the same scenario, and
# runs Debian WSGI_MOL_SUITE (default trixie).
#
# Knobs: WSGI_CONTROLLER_IMAGE (default wsgi-controller:trixie), WSGI_CORE221_CONTAINER (the
# controller's name, default wsgi-core221-lane), WSGI_IMAGE_PREFIX (base images, as containers.sh),
# WSGI_MOL_PREFIX, WSGI_MOL_SUFFIX, WSGI_MOL_SUITE.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${WSGI_CONTROLLER_IMAGE:-wsgi-controller:trixie}
BASE=${WSGI_IMAGE_PREFIX:-wsgi-systemd}-base:trixie
NAME=${WSGI_CORE221_CONTAINER:-wsgi-core221-lane}
INPUTS=(scripts/controller-image.Dockerfile requirements-core221.txt constraints-core221.txt)
LABEL=wsgi.controller.inputs

log() { printf '==> %s\n' "$*"; }

inputs_hash() { cat "${INPUTS[@]}" | sha256sum | cut -c1-16; }

cmd_image() {
  local want have old ctx
  want=$(inputs_hash)
  have=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    log "controller image $IMAGE is up to date ($LABEL=$want)"
    return
  fi
  docker image inspect "$BASE" >/dev/null 2>&1 || scripts/containers.sh images
  old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  ctx=$(mktemp -d)
  cp scripts/controller-image.Dockerfile "$ctx/Dockerfile"
  cp requirements-core221.txt constraints-core221.txt "$ctx/"
  # The host's trusted CA bundle, as for the target images: pip reaches PyPI through the same egress.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-bundle.crt"
  log "building controller image $IMAGE from $BASE (pip install of the 2.21 stack: a few minutes)"
  if ! DOCKER_BUILDKIT=0 docker build -q --build-arg BASE="$BASE" --label "$LABEL=$want" -t "$IMAGE" "$ctx" >/dev/null; then
    rm -rf "$ctx"
    echo "building $IMAGE failed" >&2
    return 1
  fi
  rm -rf "$ctx"
  # The image it replaces (same tag, older inputs) would only take disk space.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
}

cmd_run() {
  local scenario=${1:-collection}
  cmd_image
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  log "molecule test -s $scenario with ansible-core 2.21 in $NAME ($IMAGE)"
  docker run --rm --name "$NAME" --label wsgi-core221-lane=1 \
    -v /var/run/docker.sock:/var/run/docker.sock \
    -v "$PWD:$PWD" -w "$PWD" \
    -e WSGI_MOL_PREFIX="${WSGI_MOL_PREFIX:-wsgi-mol}" \
    -e WSGI_MOL_SUFFIX="${WSGI_MOL_SUFFIX:--core221}" \
    -e WSGI_MOL_SUITE="${WSGI_MOL_SUITE:-trixie}" \
    "$IMAGE" bash -c 'set -e
      python3 --version
      ansible --version | head -n 1
      molecule test -s "$1"' _ "$scenario"
}

case "${1:-}" in
  image) cmd_image ;;
  run) shift; cmd_run "$@" ;;
  *) echo "usage: $0 image|run [SCENARIO]" >&2; exit 2 ;;
esac
