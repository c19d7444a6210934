#!/usr/bin/env bash
# The whole test suite (`make test`): lint, unit tests, the example apps' tests, then every Molecule
# scenario against real systemd containers. Runs every part even after a failure, prints one plain
# line per part and a closing line with the counts, and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG="$PWD/ansible.cfg" ANSIBLE_NOCOLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
SCENARIOS=${WSGI_SCENARIOS:-$(cd molecule && ls -d */ | tr -d / | grep -v '^_' | tr '\n' ' ')}
passed=0 failed=0 results=()
record() { # name rc
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); results+=("PASS  $1"); else failed=$((failed + 1)); results+=("FAIL  $1"); fi
}
step() { printf '\n==> %s\n' "$*"; }

step "container engine and base images"
scripts/containers.sh images
record "engine + images" $?

step "yamllint"; yamllint -s . ; record yamllint $?
step "ansible-lint (production profile)"; ansible-lint -q ; record ansible-lint $?
step "ruff"; { ruff check . && ruff format --check . ; } ; record ruff $?

step "unit tests (site model)"; python -m pytest -q -p no:cacheprovider tests ; record "unit tests" $?
if [ -d tui/tests ]; then
  step "admin console tests"; (cd tui && python -m pytest -q -p no:cacheprovider) ; record "console tests" $?
fi
step "example apps"; PYTHON=python apps/run_tests.sh ; record "example apps" $?

mol_pass=0 mol_fail=0
for scenario in $SCENARIOS; do
  step "molecule test -s $scenario"
  start=$SECONDS
  molecule test -s "$scenario"
  rc=$?
  echo "molecule scenario $scenario: rc=$rc in $((SECONDS - start))s"
  if [ $rc -eq 0 ]; then mol_pass=$((mol_pass + 1)); else mol_fail=$((mol_fail + 1)); fi
  record "molecule $scenario" $rc
done

printf '\n==> summary\n'
printf '%s\n' "${results[@]}"
echo "molecule: ${mol_pass} passed, ${mol_fail} failed"
echo "suites: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
