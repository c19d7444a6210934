#!/usr/bin/env bash
# `ansible-test sanity` on the collection, offline-capable and without containers (a part of
# `make test`). ansible-test needs the collection at .../ansible_collections/wsgi/deploy, so the
# files the tarball holds (galaxy.yml build_ignore) plus tests/sanity/ are copied into a temporary
# tree; it runs every sanity test for Python 3.11 (the controller) in the virtual environments it
# makes per test, pip installing their pinned requirements from PyPI, cached under
# $WSGI_ANSIBLE_TEST_HOME (default .cache/ansible-test, the HOME ansible-test runs with).
# scripts/sanity-pending-<core version>.txt lists findings accepted until their owners fix them.
#
# ansible-test bootstraps pip into those environments with a script it downloads from a host
# these machines cannot reach; it takes a cached copy if there is one, so the cache gets a
# stand-in that runs pip from pip's own wheel (from PyPI, the version ansible-test asks for).
#
# Extra arguments go to ansible-test (e.g. --test pylint, -v).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export HOME=${WSGI_ANSIBLE_TEST_HOME:-$ROOT/.cache/ansible-test}
ANSIBLE_TEST=${ANSIBLE_TEST:-$ROOT/.venv/bin/ansible-test}
PYTHON_BIN=$(dirname "$ANSIBLE_TEST")/python
PIP_VERSION=$("$PYTHON_BIN" - <<'EOF'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="3.11"))["pip"])
EOF
)
CACHE=$HOME/.ansible/test/cache
BOOTSTRAP=$CACHE/get_pip_${PIP_VERSION//./_}.py
mkdir -p "$CACHE"
if [ ! -f "$BOOTSTRAP" ]; then
  "$PYTHON_BIN" -m pip download -q --no-deps --only-binary=:all: "pip==$PIP_VERSION" -d "$CACHE"
  cat >"$BOOTSTRAP" <<EOF
"""Stand-in for ansible-test's pip bootstrap script (written by scripts/sanity.sh): installs the
packages it is given (pip==$PIP_VERSION) with pip run from pip's own wheel."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-$PIP_VERSION-py3-none-any.whl"))
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", *args]))
EOF
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/wsgi/deploy
mkdir -p "$dest"
# The tarball's files: build it and unpack it, then add galaxy.yml and the accepted findings.
"$ROOT/.venv/bin/ansible-galaxy" collection build -v "$ROOT" --output-path "$work/dist" >/dev/null
tar -xzf "$work"/dist/*.tar.gz -C "$dest"
rm -f "$dest/MANIFEST.json" "$dest/FILES.json"
cp galaxy.yml "$dest/"
mkdir -p "$dest/tests/sanity"
for pending in scripts/sanity-pending-*.txt; do
  [ -e "$pending" ] || continue
  version=${pending#scripts/sanity-pending-}
  grep -vE '^(#|$)' "$pending" >"$dest/tests/sanity/ignore-$version" || true
done
cd "$dest"
"$ANSIBLE_TEST" sanity --python 3.11 --color no "$@"
