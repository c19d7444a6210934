"""Unit tests of wsgi.deploy.site_django (plugins/modules/site_django.py) against real Django
projects (the controller's Django, SQLite): each site's steps in order through its manage wrapper,
a failing migration or check named with Django's words while the other sites go on, and sites on
one database migrating one after another while the others run side by side."""

from __future__ import annotations

import os
import pwd
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from wsgi_testlib.modules import load_module

pytest.importorskip("django")
django_steps = load_module("site_django")
ME = pwd.getpwuid(os.getuid()).pw_name
OPTIONS = {"collectstatic": True, "check_deploy": True, "migrate": True, "parallel": 4}

SETTINGS = """\
import os
from pathlib import Path
SECRET_KEY = "x" * 60
DEBUG = False
ALLOWED_HOSTS = ["example.test"]
INSTALLED_APPS = ["django.contrib.staticfiles", "notes"]
ROOT_URLCONF = "notes.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ["SITE_DATA"] + "/db.sqlite3"}}
STATIC_URL = "/static/"
STATIC_ROOT = os.environ["WSGI_RELEASE"] + "/static"
STATICFILES_DIRS = [Path(__file__).parent / "assets"]
"""

MIGRATION = """\
import os, time
from django.db import migrations, models


def slow(apps, schema_editor):
    log = os.environ.get("MIGRATION_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{os.environ['SITE']} start {time.monotonic()}\\n")
        time.sleep(1.0)
        with open(log, "a") as f:
            f.write(f"{os.environ['SITE']} end {time.monotonic()}\\n")
    if os.environ.get("MIGRATION_FAILS"):
        raise RuntimeError("this migration cannot run on this data")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Note", fields=[
            ("id", models.AutoField(primary_key=True)), ("text", models.TextField())]),
        migrations.RunPython(slow),
    ]
"""

CHECKS = """\
import os
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def refuse(app_configs, **kwargs):
    if os.environ.get("CHECK_FAILS"):
        return [checks.Error("this release must not serve", id="notes.E001")]
    return []
"""


def make_site(tmp_path: Path, name: str, env: dict[str, str] | None = None, **fields: Any) -> dict:
    """A site's tree: a Django project in a release, a manage wrapper like the collection's
    (WSGI_RELEASE chooses the release, the environment comes from the wrapper)."""
    root = tmp_path / name
    release = root / "releases" / "r1"
    src = release / "src"
    (src / "notes" / "migrations").mkdir(parents=True)
    (src / "assets").mkdir()
    (src / "assets" / "site.css").write_text("body {}\n")
    (src / "settings.py").write_text(SETTINGS)
    (src / "notes" / "__init__.py").write_text("")
    (src / "notes" / "urls.py").write_text("urlpatterns = []\n")
    (src / "notes" / "apps.py").write_text(
        "from django.apps import AppConfig\n\n\nclass NotesConfig(AppConfig):\n"
        "    name = 'notes'\n\n    def ready(self):\n        from . import checks  # noqa\n"
    )
    (src / "notes" / "checks.py").write_text(CHECKS)
    (src / "notes" / "migrations" / "__init__.py").write_text("")
    (src / "notes" / "migrations" / "0001_initial.py").write_text(MIGRATION)
    (src / "manage.py").write_text(
        "import sys\nfrom django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    data = root / "data"
    data.mkdir()
    exports = {"SITE": name, "SITE_DATA": str(data), **(env or {})}
    wrapper = root / "bin" / "manage"
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/sh\nexport PYTHONDONTWRITEBYTECODE=1 DJANGO_SETTINGS_MODULE=settings\n"
        + "".join(f"export {k}='{v}'\n" for k, v in exports.items())
        + f'cd "$WSGI_RELEASE/src" && exec {sys.executable} manage.py "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return {
        "name": name,
        "manage_file": str(wrapper),
        "run_user": ME,
        "data_dir": str(data),
        "collectstatic": True,
        "database": {"engine": "sqlite", "local": False},
        **fields,
    }


def plan(*sites: dict) -> dict[str, dict[str, Any]]:
    return {
        s["name"]: {"release": "r1", "release_dir": str(Path(s["data_dir"]).parent / "releases/r1")}
        for s in sites
    }


def tables(site: dict) -> set[str]:
    with sqlite3.connect(Path(site["data_dir"]) / "db.sqlite3") as db:
        return {row[0] for row in db.execute("select name from sqlite_master where type='table'")}


def test_each_site_collects_checks_and_migrates_then_nothing_is_left_to_do(tmp_path: Path) -> None:
    sites = [make_site(tmp_path, "one"), make_site(tmp_path, "two")]

    done = django_steps.run_all(sites, plan(*sites), OPTIONS)

    assert [t.error for t in done] == [None, None]
    assert [(t.collected, t.migrated) for t in done] == [(True, True), (True, True)]
    for site in sites:
        assert (Path(site["data_dir"]).parent / "releases/r1/static/site.css").is_file()
        assert "notes_note" in tables(site)
    # The deployment checks' warnings (no SecurityMiddleware, a weak key ...) come back as lines.
    assert any("(security.W001)" in line for line in done[0].warnings), done[0].warnings

    again = django_steps.run_all(sites, plan(*sites), {**OPTIONS, "collectstatic": False})
    assert [(t.error, t.collected, t.migrated) for t in again] == [(None, False, False)] * 2


def test_a_failing_migration_is_named_with_djangos_words_and_the_other_site_still_migrates(
    tmp_path: Path,
) -> None:
    bad = make_site(tmp_path, "bad", {"MIGRATION_FAILS": "1"})
    good = make_site(tmp_path, "good")

    done = {t.site["name"]: t for t in django_steps.run_all([bad, good], plan(bad, good), OPTIONS)}

    error = done["bad"].error or ""
    assert error.startswith("site 'bad': the migrations of the new release r1 failed"), error
    assert "RuntimeError: this migration cannot run on this data" in error
    assert "the current release keeps serving" in error
    assert not done["bad"].migrated and "notes_note" not in tables(bad)  # rolled back
    assert done["good"].error is None and done["good"].migrated


def test_a_deployment_check_error_stops_the_site_before_its_migrations(tmp_path: Path) -> None:
    site = make_site(tmp_path, "refused", {"CHECK_FAILS": "1"})

    (done,) = django_steps.run_all([site], plan(site), OPTIONS)

    assert done.error is not None and "check --deploy" in done.error
    assert "notes.E001" in done.error and "this release must not serve" in done.error
    assert done.collected and not done.migrated
    assert not (Path(site["data_dir"]) / "db.sqlite3").exists()


def intervals(log: Path) -> dict[str, tuple[float, float]]:
    times: dict[str, dict[str, float]] = {}
    for line in log.read_text().splitlines():
        site, what, at = line.split()
        times.setdefault(site, {})[what] = float(at)
    return {site: (t["start"], t["end"]) for site, t in times.items()}


def test_sites_on_one_database_migrate_one_after_another_the_others_side_by_side(
    tmp_path: Path,
) -> None:
    log = tmp_path / "migrations.log"
    shared = {"engine": "postgresql", "local": True, "host": "", "port": None, "name": "shop"}
    env = {"MIGRATION_LOG": str(log)}
    first = make_site(tmp_path, "first", env, database=shared)
    second = make_site(tmp_path, "second", env, database=shared)
    own = make_site(tmp_path, "own", env)
    sites = [first, second, own]

    done = django_steps.run_all(sites, plan(*sites), {**OPTIONS, "check_deploy": False})

    assert [t.error for t in done] == [None, None, None]
    spans = intervals(log)
    (a_start, a_end), (b_start, b_end) = spans["first"], spans["second"]
    assert a_end <= b_start or b_end <= a_start, spans  # one database: never at the same time
    o_start, o_end = spans["own"]
    overlaps = [o_start < end and start < o_end for start, end in (spans["first"], spans["second"])]
    assert any(overlaps), spans  # another database: side by side


def test_database_keys() -> None:
    local = {"engine": "postgresql", "local": True, "host": "", "port": None, "name": "a"}
    remote = {**local, "local": False, "host": "db.example", "port": 5432}
    key = django_steps.database_key
    assert key({"data_dir": "/x", "database": local}) == key({"data_dir": "/y", "database": local})
    assert key({"data_dir": "/x", "database": local}) != key({"data_dir": "/x", "database": remote})
    sqlite = {"engine": "sqlite", "local": False}  # each site's own file, in its data dir
    sqlite_db = {"database": sqlite}
    assert key({"data_dir": "/x", "database": sqlite}) != key({"data_dir": "/y", **sqlite_db})


def test_a_site_whose_user_is_missing_is_its_own_error(tmp_path: Path) -> None:
    gone = make_site(tmp_path, "gone", run_user="wsgi-no-such-user-here")
    fine = make_site(tmp_path, "fine")

    done = django_steps.run_all([gone, fine], plan(gone, fine), OPTIONS)

    assert done[0].error is not None and done[0].error.startswith("site 'gone': its Django steps")
    assert "wsgi-no-such-user-here" in done[0].error
    assert done[1].error is None and done[1].migrated
