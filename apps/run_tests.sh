#!/usr/bin/env bash
# Test the example apps with the interpreter in $PYTHON (default: python3),
# which must have Django 5.2 and pytest installed.
#
#   PYTHON=.venv/bin/python apps/run_tests.sh
#
# Every step runs against throwaway state: a temporary DJANGO_DATA_DIR and
# STATIC_ROOT, and a DJANGO_SECRET_KEY generated here. Exits non-zero on the
# first failure.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
# A relative path (PYTHON=.venv/bin/python) still works after the cd's below.
case "$PYTHON" in
    */*) PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")" ;;
esac
APPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

WORK_DIR="$(mktemp -d)"
trap 'rm -rf "$WORK_DIR"' EXIT

# Only what this script sets below may influence the run.
unset DJANGO_SETTINGS_MODULE DJANGO_SECRET_KEY DJANGO_DEBUG DJANGO_ALLOWED_HOSTS \
    DJANGO_CSRF_TRUSTED_ORIGINS DJANGO_DATA_DIR DJANGO_STATIC_ROOT DJANGO_STATIC_URL \
    DJANGO_MEDIA_ROOT DJANGO_MEDIA_URL DJANGO_LOG_LEVEL
export PYTHONDONTWRITEBYTECODE=1
DJANGO_SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export DJANGO_SECRET_KEY

step() { printf '\n==> %s\n' "$*"; }

step "shared look: every app has the same theme.css and favicon.svg"
for file in theme.css favicon.svg; do
    for copy in "guestbook/guestbook/static/guestbook/$file" "polls/polls/static/polls/$file"; do
        if ! cmp "$APPS_DIR/hello/static/$file" "$APPS_DIR/$copy"; then
            echo "apps/$copy differs from apps/hello/static/$file: copy the changed one over the others" >&2
            exit 1
        fi
    done
done
echo "theme.css and favicon.svg: 3 identical copies each"

step "hello: pytest test_hello.py"
(cd "$APPS_DIR/hello" && "$PYTHON" -m pytest -q -p no:cacheprovider test_hello.py)

# django_project <project dir> <app name>
django_project() {
    local project="$1" app="$2"
    local data_dir="$WORK_DIR/$project/data" static_root="$WORK_DIR/$project/static"
    mkdir -p "$data_dir"
    export DJANGO_DATA_DIR="$data_dir" DJANGO_STATIC_ROOT="$static_root"
    cd "$APPS_DIR/$project"

    step "$project: check"
    "$PYTHON" manage.py check --fail-level WARNING

    step "$project: migrations are committed and up to date"
    "$PYTHON" manage.py makemigrations --check --dry-run

    step "$project: migrate a fresh database"
    "$PYTHON" manage.py migrate --noinput
    test -s "$data_dir/db.sqlite3"

    step "$project: test"
    # The 404/403/405 responses that the tests provoke log warnings: keep them quiet.
    DJANGO_LOG_LEVEL=ERROR "$PYTHON" manage.py test --noinput

    # Expected warnings on a plain-HTTP demo: W004 (HSTS), W008 (SSL redirect),
    # W012/W016 (secure cookies). Errors fail the run.
    step "$project: check --deploy (production-like environment)"
    DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=app.example.test \
        "$PYTHON" manage.py check --deploy --fail-level ERROR

    step "$project: collectstatic"
    "$PYTHON" manage.py collectstatic --noinput --clear -v 0
    local file
    for file in admin/css/base.css "$app/style.css" "$app/theme.css" "$app/favicon.svg"; do
        if [[ ! -s "$static_root/$file" ]]; then
            echo "collectstatic did not produce $file" >&2
            return 1
        fi
    done
    echo "found admin/css/base.css and $app/{style.css,theme.css,favicon.svg}"
}

django_project guestbook guestbook
django_project polls polls

step "all example app tests passed"
