"""Unit tests of the app fields of a site (plugins/module_utils/site_app.py through the site
model): setup commands, config files, Debian packages, packaged entries and static files, the
Django settings layer; and of the Requires-Python explanation (plugins/module_utils/pycheck.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
model = importlib.import_module("module_utils.site_model")
pycheck = importlib.import_module("module_utils.pycheck")


@pytest.fixture()
def settings(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "hello.wsgi").write_text("def application(e, s): pass\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "app.ini.j2").write_text("[app]\n")
    return {"source_base_dir": str(tmp_path), "default_stack": "nginx_gunicorn"}


def site(**over: Any) -> dict[str, Any]:
    base = {"name": "app", "domain": "app.example.org", "source": {"path": "app"}}
    base["entry"] = "hello.wsgi"
    base.update(over)
    return base


def packaged(**over: Any) -> dict[str, Any]:
    base = {
        "name": "pkg",
        "domain": "pkg.example.org",
        "requirements": ["someapp==1.0"],
        "entry": "someapp.web:app",
    }
    base.update(over)
    return base


def errs(s: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    return model.wsgi_site_errors([s], settings)


def test_valid_app_fields(settings: dict[str, Any]) -> None:
    good = site(
        commands=[
            {"name": "init", "run": "app-admin init /srv/wsgi/app/data", "creates": "data/x"},
            {"name": "warm", "run": ["python", "-c", "print(1)"], "at": "after_serve"},
            {"name": "once", "run": "true", "once": True, "unless": ["test", "-e", "/x"]},
        ],
        config_files=[
            {"path": "config/app.ini", "template": "templates/app.ini.j2"},
            {"path": "config/trac/trac.ini", "content": "[trac]\n", "mode": "0600"},
        ],
        packages=["libpq-dev", "libxml2:amd64"],
    )
    assert errs(good, settings) == []
    assert errs(packaged(), settings) == []


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"commands": {"x": 1}}, "commands", "must be a list"),
        ({"commands": [{"name": "Bad Name", "run": "x"}]}, "commands.Bad Name", "must be 1-41"),
        ({"commands": [{"name": "a", "run": "x"}, {"name": "a", "run": "y"}]}, "commands.a", "two"),
        ({"commands": [{"name": "a", "run": "'unclosed"}]}, "commands.a.run", "must be a command"),
        ({"commands": [{"name": "a", "run": []}]}, "commands.a.run", "must be a command"),
        ({"commands": [{"name": "a", "run": ["a\x00b"]}]}, "commands.a.run", "must be a command"),
        ({"commands": [{"name": "a", "run": "x", "at": "never"}]}, "commands.a.at", "not one of"),
        (
            {"commands": [{"name": "a", "run": "x", "creates": "../etc/x"}]},
            "commands.a.creates",
            "inside",
        ),
        (
            {"commands": [{"name": "a", "run": "x", "creates": "/etc/x"}]},
            "commands.a.creates",
            "inside",
        ),
        ({"commands": [{"name": "a", "run": "x", "timeout": 0}]}, "commands.a.timeout", ">= 1"),
        ({"commands": [{"name": "a", "run": "x", "shell": True}]}, "commands.a.shell", "unknown"),
        (
            {"config_files": [{"path": "src/x.py", "content": ""}]},
            "config_files[0].path",
            "config/",
        ),
        (
            {"config_files": [{"path": "data/app.ini", "content": ""}]},
            "config_files[0].path",
            "not data/",
        ),
        (
            {"config_files": [{"path": "config/../../etc/x", "content": ""}]},
            "config_files[0].path",
            "config/",
        ),
        ({"config_files": [{"path": "/etc/x", "content": ""}]}, "config_files[0].path", "config/"),
        ({"config_files": [{"path": "config", "content": ""}]}, "config_files[0].path", "config/"),
        ({"config_files": [{"path": "config/a"}]}, "config_files[0]", "either"),
        (
            {"config_files": [{"path": "config/a", "content": "", "template": "t"}]},
            "config_files[0]",
            "either",
        ),
        (
            {"config_files": [{"path": "config/a", "content": "", "mode": "0777"}]},
            "config_files[0].mode",
            "not one of",
        ),
        (
            {"config_files": [{"path": "config/a", "template": "../x.j2"}]},
            "config_files[0].template",
            "inside",
        ),
        (
            {"config_files": [{"path": "config/a", "template": "templates/none.j2"}]},
            "config_files[0].template",
            "not a file",
        ),
        (
            {
                "config_files": [
                    {"path": "config/a", "content": "x"},
                    {"path": "config/a", "content": "y"},
                ]
            },
            "config_files[1].path",
            "two entries",
        ),
        ({"packages": ["libpq-dev; rm -rf /"]}, "packages", "not a Debian package"),
        ({"packages": "libpq-dev"}, "packages", "a list"),
        ({"django_layer": "yes"}, "django_layer", "true or false"),
        ({"static": {"url": "/s/", "package": "a/b"}}, "static.package", "top-level"),
        (
            {"static": {"url": "/s/", "package": "a", "subdir": "../../etc"}},
            "static.subdir",
            "inside",
        ),
        ({"static": {"url": "/s/", "package": "a", "dir": "x"}}, "static.dir", "either"),
    ],
)
def test_bad_app_field_is_named(
    over: dict[str, Any], field: str, words: str, settings: dict[str, Any]
) -> None:
    found = errs(site(**over), settings)
    assert any(e.startswith(f"site 'app': field '{field}'") and words in e for e in found), found


def test_source_is_optional_only_when_requirements_install_the_app(
    settings: dict[str, Any],
) -> None:
    assert errs(packaged(), settings) == []
    no_reqs = packaged(requirements=[])
    assert any("field 'source': is required" in e for e in errs(no_reqs, settings))
    script = packaged(entry="app.wsgi")
    assert any("names its WSGI entry in an installed package" in e for e in errs(script, settings))


def test_an_entry_not_in_the_source_may_come_from_the_requirements(
    settings: dict[str, Any],
) -> None:
    missing = site(entry="someapp.web:app")
    assert any("not found" in e for e in errs(missing, settings))
    assert errs(site(entry="someapp.web:app", requirements=["someapp"]), settings) == []


def test_normalised_app_fields(settings: dict[str, Any]) -> None:
    (rec,) = model.wsgi_site_normalize(
        [
            packaged(
                static={"url": "/assets/", "package": "someapp", "subdir": "htdocs"},
                commands=[{"name": "init", "run": "someapp-init data", "creates": "data/db"}],
                config_files=[{"path": "config/env/app.ini", "content": "t0ps3cr3t"}],
                packages=["libxml2"],
            )
        ],
        settings,
    )
    assert rec["source"] == {"type": "none"}
    assert rec["static"] == {
        "url": "/assets/",
        "dir": "/srv/wsgi/pkg/static",
        "release": "static",
        "package": "someapp",
        "subdir": "htdocs",
    }
    (cmd,) = rec["commands"]
    assert cmd["argv"] == ["someapp-init", "data"] and cmd["at"] == "before_serve"
    assert cmd["creates"] == "/srv/wsgi/pkg/data/db" and not cmd["once"]
    assert rec["config_files"] == [
        {"path": "/srv/wsgi/pkg/config/env/app.ini", "template": None, "mode": "0640"}
    ]
    assert "t0ps3cr3t" not in repr(rec)  # contents are rendered by the role, never in the record
    assert rec["config_dirs"] == ["/srv/wsgi/pkg/config", "/srv/wsgi/pkg/config/env"]
    assert rec["packages"] == ["libxml2"]
    assert rec["run_file"] == "/srv/wsgi/pkg/bin/run"


def test_command_fingerprint_follows_what_runs(settings: dict[str, Any]) -> None:
    def fingerprint(**cmd: Any) -> str:
        (rec,) = model.wsgi_site_normalize([site(commands=[{"name": "a", **cmd}])], settings)
        return str(rec["commands"][0]["fingerprint"])

    assert fingerprint(run="a b") == fingerprint(run=["a", "b"])
    assert fingerprint(run="a b") != fingerprint(run="a c")
    assert fingerprint(run="a") != fingerprint(run="a", creates="data/x")


def test_django_layer_is_the_default_and_can_be_turned_off(settings: dict[str, Any]) -> None:
    proj = Path(settings["source_base_dir"]) / "proj" / "mysite" / "settings"
    proj.mkdir(parents=True)
    (proj.parent / "wsgi.py").write_text("application = None\n")
    (proj / "__init__.py").write_text("")
    (proj / "production.py").write_text("")
    django = {
        "name": "dj",
        "domain": "dj.example.org",
        "kind": "django",
        "source": {"path": "proj"},
        "entry": "mysite.wsgi:application",
        "django_settings": "mysite.settings.production",
        "secrets": {"DJANGO_SECRET_KEY": "x"},
    }
    assert errs(django, settings) == []
    (rec,) = model.wsgi_site_normalize([django], settings)
    assert rec["django_layer"] and rec["django_settings_module"] == "wsgi_django_settings"
    assert rec["django_layer_file"] == "/srv/wsgi/dj/wsgi/wsgi_django_settings.py"
    assert rec["django_settings"] == "mysite.settings.production"
    assert rec["proxied"] is True  # nginx_gunicorn: the layer trusts X-Forwarded-Proto
    (own,) = model.wsgi_site_normalize([{**django, "django_layer": False}], settings)
    assert own["django_settings_module"] == "mysite.settings.production"


def test_contract_keys_of_the_layer_cannot_be_set(settings: dict[str, Any]) -> None:
    found = errs(
        {
            "name": "dj",
            "domain": "dj.example.org",
            "kind": "django",
            "requirements": ["mysite"],
            "entry": "mysite.wsgi:application",
            "env": {"WSGI_DJANGO_PROJECT_SETTINGS": "evil"},
            "secrets": {"DJANGO_SECRET_KEY": "x"},
        },
        settings,
    )
    assert any("field 'env.WSGI_DJANGO_PROJECT_SETTINGS'" in e for e in found), found


PIP_STDERR = """\
ERROR: Ignored the following versions that require a different python version: 6.0 Requires-Python >=3.12; 6.0.1 Requires-Python >=3.12; 6.1rc1 Requires-Python >=3.12; 6.1 Requires-Python >=3.12
ERROR: Could not find a version that satisfies the requirement Django>=6.0 (from versions: 5.2, 5.2.1)
ERROR: No matching distribution found for Django>=6.0
"""


def test_pip_requires_python_failure_is_explained() -> None:
    found = pycheck.explain(PIP_STDERR)
    assert found and found["requirement"] == "Django>=6.0" and found["needs"] == [">=3.12"]
    msg = pycheck.message("newpy", "web1", "3.11", "12", found)
    assert msg.startswith("site 'newpy': Django>=6.0 needs Python >=3.12")
    assert "Django 6.0 to 6.1" in msg and "host web1 has Python 3.11 (Debian 12)" in msg
    assert "Debian 13 has 3.13" in msg and "Debian 11" not in msg
    assert "pin Django to a release that supports Python 3.11" in msg


def test_other_pip_failures_are_not_refusals() -> None:
    assert pycheck.explain("ERROR: No matching distribution found for foo\n") is None
    assert (
        pycheck.explain("ERROR: Could not find a version that satisfies the requirement foo\n")
        is None
    )


def _cached(cache: Path, version: str, reqs: list[str], result: dict[str, Any]) -> None:
    """pip's answer for (version, reqs) put in the check's cache (pip is not asked then)."""
    import json

    cache.mkdir(exist_ok=True)
    key = pycheck.cache_key(version, reqs, "", None)
    (cache / f"{key}.json").write_text(json.dumps(result))


def test_the_sites_requirements_are_checked_per_present_site(tmp_path: Path) -> None:
    """What the module and the action plugin both run: an explained Requires-Python failure is
    an error naming the site, another failure a warning; absent sites, sites without
    requirements and interpreters the host checks found unusable are not asked about."""
    cache = tmp_path / "cache"
    found = pycheck.explain(PIP_STDERR)
    _cached(
        cache, "3.11", ["Django>=6.0"], {"ok": False, "requires_python": found, "warning": None}
    )
    _cached(cache, "3.11", ["rare"], {"ok": True, "requires_python": None, "warning": "no wheel"})
    _cached(cache, "3.11", ["fine"], {"ok": True, "requires_python": None, "warning": None})
    py = "/usr/bin/python3"
    sites = [
        {"name": "newpy", "state": "present", "python": py, "requirements": ["Django>=6.0"]},
        {"name": "sdist", "state": "present", "python": py, "requirements": ["rare"]},
        {"name": "ok", "state": "present", "python": py, "requirements": ["fine"]},
        {"name": "gone", "state": "absent", "python": py, "requirements": ["Django>=6.0"]},
        {"name": "bare", "state": "present", "python": py, "requirements": []},
        {"name": "nopy", "state": "present", "python": "/opt/x", "requirements": ["Django>=6.0"]},
    ]
    params = {"sites": sites, "pythons": {py: "3.11"}, "host": "web1", "debian": "12"}
    errors, warnings = pycheck.check_sites({**params, "cache_dir": str(cache)}, "/nonexistent")
    assert [e.split(":")[0] for e in errors] == ["site 'newpy'"]
    assert errors[0] == pycheck.message("newpy", "web1", "3.11", "12", found)
    assert warnings == ["site 'sdist': requirements not checked: no wheel"]


@pytest.mark.parametrize(
    ("database", "field", "words"),
    [
        ("mysql", "database.engine", "not one of"),
        ({"engine": "postgresql", "host": "db;x"}, "database.host", "host name"),
        (
            {"engine": "postgresql", "host": "db", "name": "x", "user": "u", "port": 0},
            "database.port",
            "port number",
        ),
        ({"engine": "postgresql", "name": "Bad Name"}, "database.name", "1-63 chars"),
        (
            {"engine": "postgresql", "host": "db", "name": "x", "user": "u", "password": "a\nb"},
            "database.password",
            "one line",
        ),
        (
            {"engine": "postgresql", "host": "db", "name": "x", "user": "u", "sslmode": "yes"},
            "database.sslmode",
            "not one of",
        ),
        ({"engine": "postgresql", "password": "x"}, "database.password", "only for an external"),
        ({"engine": "postgresql", "host": "db"}, "database", "needs 'name' and 'user'"),
        ({"engine": "sqlite", "host": "db"}, "database.host", "only for engine"),
        ({"engine": "postgresql", "colour": 1}, "database.colour", "unknown option"),
    ],
)
def test_bad_database_is_named(
    database: Any, field: str, words: str, settings: dict[str, Any]
) -> None:
    found = errs(site(database=database), settings)
    assert any(e.startswith(f"site 'app': field '{field}'") and words in e for e in found), found


def test_local_postgresql_needs_the_app_user(settings: dict[str, Any]) -> None:
    embedded = site(
        database={"engine": "postgresql"}, stack="apache_mod_wsgi", mod_wsgi={"mode": "embedded"}
    )
    assert any("peer" in e and "daemon mode" in e for e in errs(embedded, settings))
    assert errs(site(database={"engine": "postgresql"}, stack="apache_mod_wsgi"), settings) == []


def test_database_keys_are_the_collections(settings: dict[str, Any]) -> None:
    found = errs(site(database={"engine": "postgresql"}, env={"DATABASE_URL": "x"}), settings)
    assert any("field 'env.DATABASE_URL'" in e for e in found), found
    assert errs(site(env={"DATABASE_URL": "sqlite:///x"}), settings) == []


def test_normalised_databases(settings: dict[str, Any]) -> None:
    local, external, default = model.wsgi_site_normalize(
        [
            site(name="my-app", database={"engine": "postgresql"}),
            site(
                name="ext",
                database={
                    "engine": "postgresql",
                    "host": "db.example.org",
                    "name": "ext",
                    "user": "ext",
                    "password": "t0ps3cr3t",
                    "sslmode": "require",
                },
            ),
            site(name="plain"),
        ],
        settings,
    )
    assert local["database"] == {
        "engine": "postgresql",
        "local": True,
        "host": "",
        "port": None,
        "name": "my_app",
        "user": "wsgi-my-app",
        "sslmode": "",
        "has_password": False,
    }
    assert local["system_packages"] == ["postgresql", "python3-psycopg2"]
    assert "psycopg[binary]>=3.1" in local["requirements"]
    assert external["database"]["port"] == 5432 and external["database"]["has_password"]
    assert external["system_packages"] == []
    assert "t0ps3cr3t" not in repr(external)
    assert default["database"] == {"engine": "sqlite", "local": False}
    assert default["requirements"] == []
