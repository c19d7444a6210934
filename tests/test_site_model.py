"""Unit tests of the site model (plugins/module_utils/site_model.py): validation messages
name the site and the field, normalisation derives every path and default."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    sys.path.insert(0, str(ROOT / "plugins"))
    return importlib.import_module("module_utils.site_model")


model = _load()


@pytest.fixture()
def settings(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hello.wsgi").write_text("def application(e, s): pass\n")
    proj = tmp_path / "gb" / "guestbook_site"
    proj.mkdir(parents=True)
    (proj / "wsgi.py").write_text("application = None\n")
    return {"source_base_dir": str(tmp_path), "default_stack": "apache_mod_wsgi"}


def hello(**over: Any) -> dict[str, Any]:
    site = {
        "name": "hello",
        "domain": "departamentos.centro.intranet",
        "aliases": ["www.departamentos.centro.intranet"],
        "path": "/test",
        "source": {"path": "hello"},
        "entry": "hello.wsgi",
    }
    site.update(over)
    return site


def guestbook(**over: Any) -> dict[str, Any]:
    site = {
        "name": "guestbook",
        "domain": "guestbook.example.org",
        "kind": "django",
        "source": {"path": "gb"},
        "entry": "guestbook_site.wsgi:application",
        "secrets": {"DJANGO_SECRET_KEY": "s3cret"},
    }
    site.update(over)
    return site


def errors(sites: list[Any], settings: dict[str, Any]) -> list[str]:
    return model.wsgi_site_errors(sites, settings)


def test_valid_sites_have_no_errors(settings: dict[str, Any]) -> None:
    assert errors([hello(), guestbook()], settings) == []


@pytest.mark.parametrize(
    ("site", "field", "words"),
    [
        (hello(domain="bad_domain!.org"), "domain", "not a valid"),
        (hello(domain="Upper.Example.org"), "domain", "lower-case"),
        (hello(aliases=["-x.example.org"]), "aliases", "not a valid"),
        (hello(path="test"), "path", "must start with '/'"),
        (hello(path="/test/"), "path", "no trailing"),
        (hello(stack="lighttpd"), "stack", "not one of"),
        (hello(mod_wsgi={"mode": "turbo"}), "mod_wsgi.mode", "not one of"),
        (hello(mod_wsgi={"threads": 0}), "mod_wsgi.threads", ">= 1"),
        (hello(mod_wsgi={"extra": ["A\nB"]}), "mod_wsgi.extra", "single-line"),
        (hello(entry="missing.wsgi"), "entry", "not found"),
        (hello(entry=None), "entry", "is required"),
        (hello(entry="/etc/passwd"), "entry", "relative"),
        (hello(source={"path": "nowhere"}), "source.path", "not a directory"),
        (hello(kind="php"), "kind", "not one of"),
        (hello(state="gone"), "state", "not one of"),
        (hello(name="Hello World"), "name", "must be"),
        (hello(colour="blue"), "colour", "unknown field"),
        (hello(python="python3"), "python", "absolute path"),
        (hello(static={"url": "static"}), "static.url", "ending in '/'"),
        (hello(env={"1BAD": "x"}), "env", "environment variable name"),
        (guestbook(secrets={}), "secrets", "DJANGO_SECRET_KEY"),
        (guestbook(entry="guestbook_site.nope:application"), "entry", "not found"),
        (guestbook(entry="manage.py"), "entry", "Django site needs"),
        (hello(gunicorn={"worker_class": "uwsgi"}), "gunicorn.worker_class", "not one of"),
        (hello(gunicorn={"workers": 0}), "gunicorn.workers", ">= 1"),
        (hello(gunicorn={"threads": "4"}), "gunicorn.threads", ">= 1"),
        (hello(gunicorn={"socket": "/tmp/hello.sock"}), "gunicorn.socket", "under /run/"),
        (hello(gunicorn={"socket": "/run/../etc/x.sock"}), "gunicorn.socket", "under /run/"),
        (hello(gunicorn={"wokers": 2}), "gunicorn.wokers", "unknown option"),
        (hello(nginx={"client_max_body_size": "lots"}), "nginx.client_max_body_size", "size"),
        (hello(nginx={"extra": ["a;\nb;"]}), "nginx.extra", "single-line"),
    ],
)
def test_bad_field_is_named(
    site: dict[str, Any], field: str, words: str, settings: dict[str, Any]
) -> None:
    errs = errors([site], settings)
    assert errs, "expected a validation error"
    assert any(
        e.startswith(f"site '{site['name']}': field '{field}'") and words in e for e in errs
    ), errs


def test_unnamed_site_is_labelled_by_position(settings: dict[str, Any]) -> None:
    errs = errors([hello(), {"domain": "x.example.org"}], settings)
    assert any(e.startswith("site #2: field 'name': is required") for e in errs), errs


def test_duplicate_domain_across_sites(settings: dict[str, Any]) -> None:
    other = guestbook(domain="www.departamentos.centro.intranet")
    errs = errors([hello(), other], settings)
    assert errs == [
        "site 'guestbook': field 'domain': domain 'www.departamentos.centro.intranet' is already "
        "used by site 'hello' (one VirtualHost/server block per site: give each site its own names)"
    ]


def test_same_domain_and_path(settings: dict[str, Any]) -> None:
    twin = hello(name="hello2", aliases=[])
    errs = errors([hello(), twin], settings)
    assert len(errs) == 1
    assert "site 'hello2': field 'domain': two sites at the same domain+path" in errs[0]
    assert "departamentos.centro.intranet/test" in errs[0]


def test_duplicate_name(settings: dict[str, Any]) -> None:
    errs = errors([hello(), guestbook(name="hello")], settings)
    assert any("field 'name': 'hello' is used by two sites" in e for e in errs), errs


def test_absent_site_needs_no_app_and_frees_its_domain(settings: dict[str, Any]) -> None:
    gone = {"name": "old", "domain": "departamentos.centro.intranet", "state": "absent"}
    assert errors([gone, hello()], settings) == []


def test_site_list_must_be_a_list(settings: dict[str, Any]) -> None:
    assert errors({"name": "x"}, settings) == ["wsgi_sites must be a list of sites, got dict"]  # type: ignore[arg-type]
    assert errors(None, settings) == []  # type: ignore[arg-type]


def test_normalize_script_site(settings: dict[str, Any]) -> None:
    (rec,) = model.wsgi_site_normalize([hello()], settings)
    assert rec["names"] == ["departamentos.centro.intranet", "www.departamentos.centro.intranet"]
    assert rec["stack"] == "apache_mod_wsgi"
    assert rec["entry"] == {"type": "script", "target": "hello.wsgi", "callable": "application"}
    assert rec["root"] == "/srv/wsgi/hello"
    assert rec["venv_dir"] == "/srv/wsgi/hello/venv"
    assert rec["wsgi_file"] == "/srv/wsgi/hello/wsgi/wsgi_entry.py"
    assert rec["env_file"] == "/etc/wsgi-sites/hello.env"
    assert rec["user"] == rec["run_user"] == "wsgi-hello"
    assert rec["mod_wsgi"]["mode"] == "daemon"
    assert rec["static"] is None and rec["collectstatic"] is False
    assert rec["source"] == {"type": "local", "path": settings["source_base_dir"] + "/hello/"}


def test_normalize_django_site_strips_secrets(settings: dict[str, Any]) -> None:
    (rec,) = model.wsgi_site_normalize([guestbook(media={"url": "/media/"})], settings)
    assert rec["django_settings"] == "guestbook_site.settings"
    assert rec["static"] == {
        "url": "/static/",
        "dir": "/srv/wsgi/guestbook/static",
        "release": "static",
    }
    assert rec["media"] == {"url": "/media/", "dir": "/srv/wsgi/guestbook/media"}
    assert rec["collectstatic"] is True
    assert rec["secret_names"] == ["DJANGO_SECRET_KEY"]
    assert "s3cret" not in repr(rec)


def test_embedded_mode_runs_as_the_web_user(settings: dict[str, Any]) -> None:
    (rec,) = model.wsgi_site_normalize([hello(mod_wsgi={"mode": "embedded"})], settings)
    assert rec["run_user"] == "www-data"
    assert rec["user"] == "wsgi-hello"


def test_stack_default_and_overrides(settings: dict[str, Any]) -> None:
    s = dict(
        settings, default_stack="nginx_gunicorn", stack_overrides={"guestbook": "apache_mod_wsgi"}
    )
    recs = model.wsgi_site_normalize([hello(), guestbook()], s)
    assert [r["stack"] for r in recs] == ["nginx_gunicorn", "apache_mod_wsgi"]
    bad = dict(settings, stack_overrides={"hello": "iis"})
    assert any("field 'stack': 'iis'" in e for e in errors([hello()], bad))


def test_removal_list_marks_absent_and_purges(settings: dict[str, Any]) -> None:
    s = dict(settings, remove=["hello"], purge=True)
    (rec,) = model.wsgi_site_normalize([hello()], s)
    assert rec["state"] == "absent" and rec["purge_data"] is True


def test_git_source(settings: dict[str, Any]) -> None:
    site = hello(source={"git": "https://example.org/app.git", "version": "v1"})
    assert errors([site], settings) == []
    (rec,) = model.wsgi_site_normalize([site], settings)
    assert rec["source"] == {"type": "git", "repo": "https://example.org/app.git", "version": "v1"}


@pytest.mark.parametrize(
    "sites_file",
    [
        "inventory/demo/group_vars/wsgi_servers/sites.yml",
        "inventory/production.example/group_vars/wsgi_servers/sites.yml",
        "molecule/_shared/group_vars/wsgi_servers/sites.yml",
        "molecule/safety/group_vars/wsgi_servers/sites.yml",
    ],
)
def test_shipped_site_lists_are_valid(sites_file: str) -> None:
    import yaml

    sites = yaml.safe_load((ROOT / sites_file).read_text())["wsgi_sites"]
    assert sites
    assert errors(sites, {"source_base_dir": str(ROOT / "apps")}) == []


def test_one_stack_per_host(settings: dict[str, Any]) -> None:
    errs = errors([hello(), guestbook(stack="nginx_gunicorn")], settings)
    assert errs == [
        "site 'guestbook': field 'stack': 'nginx_gunicorn', but site 'hello' on the same host uses "
        "'apache_mod_wsgi': one web server owns port 80, so all the sites of a host use the same "
        "stack"
    ]
    gone = guestbook(stack="nginx_gunicorn", state="absent")
    assert errors([hello(), gone], settings) == []


def test_two_sites_on_one_socket(settings: dict[str, Any]) -> None:
    sock = {"socket": "/run/gunicorn/shared.sock"}
    errs = errors([hello(gunicorn=sock), guestbook(gunicorn=sock)], settings)
    assert errs == [
        "site 'guestbook': field 'gunicorn.socket': '/run/gunicorn/shared.sock' is already used "
        "by site 'hello'"
    ]


def test_normalize_gunicorn_defaults(settings: dict[str, Any]) -> None:
    s = dict(settings, default_stack="nginx_gunicorn", gunicorn_workers=5)
    (rec,) = model.wsgi_site_normalize([hello()], s)
    assert rec["gunicorn"] == {
        "service": "gunicorn-hello",
        "socket": "/run/gunicorn/hello.sock",
        "workers": 5,
        "worker_class": "sync",
        "threads": 1,
        "timeout": 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "max_requests": 1000,
        "max_requests_jitter": 100,
        "preload": False,
        "extra_args": [],
    }
    assert rec["nginx"] == {"client_max_body_size": "10m", "keepalive": 16, "extra": []}
    (rec,) = model.wsgi_site_normalize([hello(gunicorn={"worker_class": "gthread"})], s)
    assert rec["gunicorn"]["threads"] == 4
