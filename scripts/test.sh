#!/usr/bin/env bash
# The whole test suite (`make test`): lint, unit tests, the example apps' tests, then every Molecule
# scenario against real systemd containers. Runs every part even after a failure, prints one plain
# line per part and a closing line with the counts, and exits non-zero on any failure.
#
# The Molecule scenarios spend most of their time waiting (a `docker exec` per task, package
# installs inside the containers), so they run in parallel lanes (WSGI_TEST_LANES, default 3),
# started first, while the quick suites run in the foreground. Each scenario's output goes to its
# own log, printed whole at the end (and kept under $WSGI_TEST_LOGS, default .test-logs/).
#
# Beside the lanes, another parallel job runs the `collection` scenario with ansible-core 2.21 on a
# Python 3.13 controller container (scripts/core221-lane.sh, its image built when its inputs
# change; WSGI_CORE221=0 skips it). molecule/vagrant cannot run here (no virtual machines): the
# packaging suite checks what it can of it.
set -uo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG="$PWD/ansible.cfg" ANSIBLE_NOCOLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
LANES=${WSGI_TEST_LANES:-3}
LOGS=${WSGI_TEST_LOGS:-$PWD/.test-logs}
# Longest first, so that the lanes end at about the same time; any other scenario after them.
KNOWN_ORDER="safety nginx releases apps default workers stacks tls collection"
# Scenarios this machine cannot run (virtual machines).
NOT_HERE="vagrant"
ALL=$(cd molecule && ls -d */ | tr -d / | grep -v '^_' | grep -vxF "$(printf '%s\n' $NOT_HERE)")
if [ -n "${WSGI_SCENARIOS:-}" ]; then
  SCENARIOS=$WSGI_SCENARIOS
else
  SCENARIOS=$(for s in $KNOWN_ORDER; do echo "$ALL" | grep -qx "$s" && echo "$s"; done
    echo "$ALL" | grep -vxF "$(printf '%s\n' $KNOWN_ORDER)")
fi
SCENARIOS=$(echo $SCENARIOS)
passed=0 failed=0 results=()
record() { # name rc
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); results+=("PASS  $1"); else failed=$((failed + 1)); results+=("FAIL  $1"); fi
}
step() { printf '\n==> %s\n' "$*"; }
failed_logs=()
# One foreground suite: its output shown and kept in $LOGS/<name>.log, its result recorded; a
# failed one's log is summed up again next to the summary (a CI report may keep only the end).
suite() { # name command...
  local name=$1 log rc
  shift
  log="$LOGS/$(echo "$name" | tr ' ' '-').log"
  step "$name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  record "$name" "$rc"
  [ "$rc" -eq 0 ] || failed_logs+=("$log")
}

# One Molecule scenario, its output to its log (printed whole once every lane is done).
run_scenario() {
  local scenario=$1 start=$SECONDS rc=0
  printf '==> molecule test -s %s: started at %s\n' "$scenario" "$(date -u +%T)"
  molecule test -s "$scenario" >"$LOGS/molecule-$scenario.log" 2>&1 || rc=$?
  echo "$rc" >"$LOGS/molecule-$scenario.rc"
  echo "molecule scenario $scenario: rc=$rc in $((SECONDS - start))s" | tee -a "$LOGS/molecule-$scenario.log"
}
export -f run_scenario
# The browser tests of the scenarios keep their screenshots under $WSGI_TEST_LOGS/screenshots.
export LOGS WSGI_TEST_LOGS="$LOGS"

step "container engine and base images"
scripts/containers.sh images
record "engine + images" $?

rm -rf "$LOGS" && mkdir -p "$LOGS"
step "molecule scenarios in $LANES lanes: $SCENARIOS"
printf '%s\n' $SCENARIOS | xargs -r -P "$LANES" -I{} bash -c 'run_scenario "$1"' _ {} &
lanes_pid=$!

CORE221=${WSGI_CORE221:-1}
if [ "$CORE221" != 0 ]; then
  step "ansible-core 2.21 lane: molecule test -s collection in a Python 3.13 controller container"
  {
    start=$SECONDS rc=0
    printf '==> ansible-core 2.21 lane: started at %s\n' "$(date -u +%T)"
    scripts/core221-lane.sh run collection >"$LOGS/core221-collection.log" 2>&1 || rc=$?
    echo "$rc" >"$LOGS/core221-collection.rc"
    echo "ansible-core 2.21 lane (collection): rc=$rc in $((SECONDS - start))s" | tee -a "$LOGS/core221-collection.log"
  } &
  core221_pid=$!
fi

{
  suite yamllint yamllint -s .
  suite ansible-lint ansible-lint -q
  suite ruff sh -c 'ruff check . && ruff format --check .'
  suite "unit tests" python -m pytest -q -p no:cacheprovider tests --ignore=tests/packaging
  suite "collection packaging" python -m pytest -q -p no:cacheprovider tests/packaging
  step "ansible-test sanity (Python 3.11; pip output of its test environments in the log)"
  scripts/sanity.sh >"$LOGS/ansible-test-sanity.log" 2>&1 ; rc=$?
  grep -vE '^ *(Collecting|Downloading|Installing|Successfully|Using cached|Requirement already|━)' "$LOGS/ansible-test-sanity.log"
  record "ansible-test sanity" $rc
  [ "$rc" -eq 0 ] || failed_logs+=("$LOGS/ansible-test-sanity.log")
  if [ -d tui/tests ]; then
    suite "console tests" sh -c 'cd tui && exec python -m pytest -q -p no:cacheprovider'
  fi
  suite "example apps" env PYTHON=python apps/run_tests.sh
}

step "waiting for the molecule lanes"
wait "$lanes_pid"
[ -n "${core221_pid:-}" ] && wait "$core221_pid"
mol_pass=0 mol_fail=0
molecule_result() { # title name log: the log whole, then its result counted and recorded
  local rc
  step "$1 (log)"
  cat "$3" 2>/dev/null
  rc=$(cat "${3%.log}.rc" 2>/dev/null || echo 1)
  if [ "$rc" -eq 0 ]; then mol_pass=$((mol_pass + 1)); else mol_fail=$((mol_fail + 1)) failed_logs+=("$3"); fi
  record "$2" "$rc"
}
for scenario in $SCENARIOS; do
  molecule_result "molecule test -s $scenario" "molecule $scenario" "$LOGS/molecule-$scenario.log"
done
if [ "$CORE221" != 0 ]; then
  molecule_result "molecule test -s collection with ansible-core 2.21" \
    "molecule collection (ansible-core 2.21)" "$LOGS/core221-collection.log"
fi

# Why each failed scenario failed, next to the summary (a CI report may keep only the output's end).
for log in "${failed_logs[@]}"; do
  step "why $(basename "$log" .log) failed (its whole log is above)"
  why=$(grep -E '^(FAILED|ERROR) |^fatal: |^failed: |^E   |CRITICAL|Error: |^\* \[' "$log" | grep -v RETRYING | cut -c1-400 | head -n 40)
  if [ -n "$why" ]; then echo "$why"; else tail -n 30 "$log" | cut -c1-400; fi
done

printf '\n==> summary\n'
printf '%s\n' "${results[@]}"
echo "molecule: ${mol_pass} passed, ${mol_fail} failed"
echo "suites: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
