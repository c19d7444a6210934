"""Unit tests of the site model (plugins/module_utils/site_model.py): validation messages
name the site and the field, normalisation derives every path and default."""

from __future__ import annotations

import importlib
import shutil
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
    base = settings["source_base_dir"]
    assert rec["source"]["type"] == "local" and rec["source"]["path"] == base + "/hello/"
    # Staged under one tree per source base dir (one rsync of the base for all its sites).
    assert rec["source"]["sync_root"] == base + "/" and rec["source"]["sync_rel"] == "hello"
    assert rec["stage_dir"] == rec["source"]["stage_base"] + "/hello"
    assert rec["stage_dir"].startswith("/var/lib/wsgi-deploy/stage/")


def test_the_staging_tree_does_not_depend_on_where_the_sources_are_on_the_controller(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    # The same sites run from two checkouts (or copies) of the sources: the same trees on the host.
    one, two = tmp_path / "one", tmp_path / "elsewhere" / "two"
    for copy in (one, two):
        shutil.copytree(tmp_path / "hello", copy / "hello")
    outside = {"path": str(tmp_path / "gb")}  # outside the base dir: a tree of its own
    sites = [hello(), guestbook(source=outside)]
    here = model.wsgi_site_normalize(sites, dict(settings, source_base_dir=str(one)))
    there = model.wsgi_site_normalize(sites, dict(settings, source_base_dir=str(two)))
    assert here[0]["source"]["sync_root"] != there[0]["source"]["sync_root"]
    assert [r["stage_dir"] for r in here] == [r["stage_dir"] for r in there]
    assert here[0]["stage_dir"] != here[1]["stage_dir"]
    assert here[0]["source"]["stage_base"] != here[1]["source"]["stage_base"]
    # Sites under one base dir share one tree (one rsync), each in its own directory of it.
    both = model.wsgi_site_normalize([hello(), guestbook()], settings)
    assert both[0]["source"]["stage_base"] == both[1]["source"]["stage_base"]
    assert both[1]["stage_dir"] == both[1]["source"]["stage_base"] + "/gb"
    # Adding or removing a site does not move the tree of the others (nothing copied again).
    (alone,) = model.wsgi_site_normalize([hello()], settings)
    assert alone["stage_dir"] == both[0]["stage_dir"]


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
    s = dict(settings, default_stack="nginx_gunicorn", gunicorn_workers=4)
    (rec,) = model.wsgi_site_normalize([hello()], s)
    assert rec["gunicorn"] == {
        "service": "gunicorn-hello",
        "socket": "/run/gunicorn/hello.sock",
        "workers": 4,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "max_requests": 1000,
        "max_requests_jitter": 100,
        "preload": False,
        "extra_args": [],
    }
    assert rec["nginx"] == {"client_max_body_size": "10m", "keepalive": 16, "extra": []}
    (rec,) = model.wsgi_site_normalize([hello(gunicorn={"worker_class": "sync"})], s)
    assert (rec["gunicorn"]["worker_class"], rec["gunicorn"]["threads"]) == ("sync", 1)
    # The host's defaults (wsgi_gunicorn_worker_class / _workers / _threads) apply to every site
    # that does not set its own.
    host = dict(s, gunicorn_worker_class="sync", gunicorn_workers=5, gunicorn_threads=8)
    (rec,) = model.wsgi_site_normalize([hello()], host)
    assert (rec["gunicorn"]["worker_class"], rec["gunicorn"]["workers"]) == ("sync", 5)
    assert rec["gunicorn"]["threads"] == 1
    host = dict(host, gunicorn_worker_class="gthread")
    (rec,) = model.wsgi_site_normalize([hello()], host)
    assert rec["gunicorn"]["threads"] == 8
    (rec,) = model.wsgi_site_normalize([hello(gunicorn={"threads": 2, "workers": 3})], host)
    assert (rec["gunicorn"]["threads"], rec["gunicorn"]["workers"]) == (2, 3)


# ------------------------------------------------------------------ hostile input (issue 9)


@pytest.mark.parametrize(
    ("site", "field", "words"),
    [
        (guestbook(media={"url": "/media/", "dir": "/etc"}), "media.dir", "outside the site"),
        (hello(static={"url": "/s/", "dir": "../../../../etc"}), "static.dir", "leaves the site"),
        (hello(static={"url": "/s/", "dir": "/var/www"}), "static.dir", "outside the site"),
        (hello(static={"url": "/s/", "dir": "/srv/wsgi/hello"}), "static.dir", "outside"),
        (
            guestbook(media={"url": "/m/", "dir": "/srv/wsgi/guestbook/data/up"}),
            "media.dir",
            "overlaps",
        ),
        (guestbook(media={"url": "/m/", "dir": "releases/x"}), "media.dir", "overlaps"),
        (hello(static={"url": "/s/", "dir": "st atic"}), "static.dir", "letters, digits"),
        (hello(env={"FOO": "x\nDJANGO_DEBUG=1"}), "env.FOO", "newline"),
        (hello(env={"FOO": "x\x00y"}), "env.FOO", "control character"),
        (hello(env={"FOO": {"a": 1}}), "env.FOO", "string or a number"),
        (hello(secrets={"TOKEN": "a\nb"}), "secrets.TOKEN", "newline"),
        (guestbook(env={"DJANGO_DEBUG": "1"}), "env.DJANGO_DEBUG", "set by the collection"),
        (hello(env={"X": "1"}, secrets={"X": "2"}), "secrets.X", "also set in 'env'"),
        (hello(env={"DJANGO_SECRET_KEY": "k"}), "env.DJANGO_SECRET_KEY", "is a secret"),
        (hello(hosts_address="10.0.0.1\n10.6.6.6 login.bank.example"), "hosts_address", "not an"),
        (hello(hosts_address="localhost"), "hosts_address", "not an IPv4"),
        (hello(hosts_address="0.0.0.0"), "hosts_address", "cannot be"),
        (hello(user="nobody"), "user", "system account"),
        (hello(user="root"), "user", "system account"),
        (hello(user="www-data"), "user", "system account"),
        (hello(user="Bad User"), "user", "characters of a-z"),
        (hello(user="systemd-foo"), "user", "system account"),
        (hello(name="a" * 28), "name", "too long for its app user"),
        (hello(requirements=['django; python_version >> "3"']), "requirements", "PEP 508"),
        (hello(requirements=["--index-url https://evil.example/simple"]), "requirements", "option"),
        (hello(requirements=["django\nflask"]), "requirements", "one line"),
        (hello(requirements_file="../../../../etc/shadow"), "requirements_file", "inside it"),
        (hello(requirements_file="/etc/shadow"), "requirements_file", "inside it"),
        (hello(requirements_file="nope.txt"), "requirements_file", "is not a file"),
        (hello(python="/usr/bin/python3 -c x"), "python", "absolute path"),
        (guestbook(django_settings="os"), "django_settings", "not a module of the project"),
        (hello(entry="../../etc/passwd"), "entry", "inside it"),
        (hello(source={"git": "--upload-pack=touch /tmp/x"}), "source.git", "not a git URL"),
        (
            hello(source={"git": "https://x.example/a.git", "version": "-b"}),
            "source.version",
            "not",
        ),
        (hello(gunicorn={"extra_args": ["--name=%n"]}), "gunicorn.extra_args", "ExecStart"),
        (hello(gunicorn={"extra_args": ["$HOME"]}), "gunicorn.extra_args", "ExecStart"),
        (hello(gunicorn={"extra_args": ["--x=1 ;rm"]}), "gunicorn.extra_args", "ExecStart"),
        (hello(domain="localhost"), "domain", "host itself"),
        (hello(aliases=["a.localhost"]), "aliases", "host itself"),
        (hello(health={"path": "no-slash"}), "health.path", "absolute URL path"),
        (hello(health={"status": 99}), "health.status", "HTTP status"),
        (hello(health={"text": "a\nb"}), "health.text", "single-line"),
        (hello(pip_index_url="file:///etc"), "pip_index_url", "http(s) URL"),
        (hello(keep_releases=0), "keep_releases", ">= 1"),
        (hello(share_user="yes"), "share_user", "true or false"),
        (hello(mod_wsgi={"extra": ["ErrorLog x\x00"]}), "mod_wsgi.extra", "single-line"),
    ],
)
def test_hostile_field_is_refused(
    site: dict[str, Any], field: str, words: str, settings: dict[str, Any]
) -> None:
    errs = errors([site], settings)
    assert any(
        e.startswith(f"site '{site['name']}': field '{field}'") and words in e for e in errs
    ), errs


def test_secret_values_never_appear_in_messages(settings: dict[str, Any]) -> None:
    secret = "s3cr3t-value\nINJECTED=1"
    errs = errors([guestbook(secrets={"DJANGO_SECRET_KEY": "k", "API": secret})], settings)
    assert errs and all("s3cr3t" not in e for e in errs), errs


def test_two_sites_sharing_a_user_need_share_user(settings: dict[str, Any]) -> None:
    a, b = hello(user="wsgi-shared"), guestbook(user="wsgi-shared")
    errs = errors([a, b], settings)
    assert any(
        "field 'user': 'wsgi-shared' is already the app user of site 'hello'" in e for e in errs
    )
    ok = [
        hello(user="wsgi-shared", share_user=True),
        guestbook(user="wsgi-shared", share_user=True),
    ]
    assert errors(ok, settings) == []


def test_symlinks_leaving_the_source_are_refused(tmp_path: Path, settings: dict[str, Any]) -> None:
    src = tmp_path / "linky"
    src.mkdir()
    (src / "static").symlink_to("/etc")
    (src / "app.wsgi").symlink_to("/etc/passwd")
    (src / "req.txt").symlink_to("/etc/hostname")
    site = hello(
        source={"path": str(src)},
        entry="app.wsgi",
        static={"url": "/s/", "dir": "static"},
        requirements_file="req.txt",
    )
    errs = " ".join(errors([site], settings))
    assert "field 'static.dir': 'static' is a symlink that leaves the source" in errs
    assert "field 'entry': 'app.wsgi' is a symlink that leaves the source" in errs
    assert "req.txt is a symlink that leaves the source" in errs


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ("--index-url https://evil.example/simple\ndjango\n", "pip option '--index-url'"),
        ("-i https://evil.example/simple\n", "pip option '-i'"),
        ("--extra-index-url=https://evil.example\n", "pip option '--extra-index-url'"),
        ("--trusted-host evil.example\n", "pip option '--trusted-host'"),
        ("-e git+https://x.example/a.git#egg=a\n", "pip option '-e'"),
        ('django; python_version >> "3"\n', "PEP 508"),
        ("-r ../../../etc/shadow\n", "includes a file outside the source"),
        ("./nowhere.whl\n", "not an archive inside the source"),
    ],
)
def test_requirements_file_lines_are_checked(
    tmp_path: Path, settings: dict[str, Any], lines: str, words: str
) -> None:
    src = tmp_path / "reqs"
    src.mkdir()
    (src / "app.wsgi").write_text("def application(e, s): pass\n")
    (src / "requirements.txt").write_text(lines)
    site = hello(source={"path": str(src)}, entry="app.wsgi", requirements_file="requirements.txt")
    errs = errors([site], settings)
    assert any("field 'requirements_file'" in e and words in e for e in errs), errs


def test_good_requirements_files_pass(tmp_path: Path, settings: dict[str, Any]) -> None:
    src = tmp_path / "reqs"
    (src / "wheels").mkdir(parents=True)
    (src / "wheels" / "app-1.0-py3-none-any.whl").write_text("")
    (src / "app.wsgi").write_text("def application(e, s): pass\n")
    (src / "base.txt").write_text("django>=5.2,<5.3  # the framework\n")
    (src / "requirements.txt").write_text(
        "-r base.txt\n--require-hashes\n"
        "requests==2.32.3 \\\n    --hash=sha256:abc\n"
        'tomli; python_version < "3.11"\n'
        "pkg @ https://files.example/pkg-1.0.tar.gz\n"
        "wheels/app-1.0-py3-none-any.whl\n"
    )
    site = hello(source={"path": str(src)}, entry="app.wsgi", requirements_file="requirements.txt")
    assert errors([site], settings) == []


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("sites_root", "/", "wsgi_sites_root"),
        ("sites_root", "relative", "wsgi_sites_root"),
        ("env_dir", "/etc", "wsgi_env_dir"),
        ("user_prefix", "Bad Prefix", "wsgi_user_prefix"),
        ("hosts_address", "10.0.0.1\n6.6.6.6 evil", "wsgi_hosts_address"),
    ],
)
def test_host_settings_are_checked(
    settings: dict[str, Any], key: str, value: str, words: str
) -> None:
    errs = errors([hello()], dict(settings, **{key: value}))
    assert any(e.startswith(words) for e in errs), errs


def test_normalize_release_layout(settings: dict[str, Any]) -> None:
    (rec,) = model.wsgi_site_normalize(
        [hello(static={"url": "/test/static/", "dir": "static"})], settings
    )
    assert rec["current"] == "/srv/wsgi/hello/current"
    assert rec["releases_dir"] == "/srv/wsgi/hello/releases"
    assert rec["static"] == {
        "url": "/test/static/",
        "dir": "/srv/wsgi/hello/src/static",
        "release": "src/static",
    }
    assert rec["health"] == {"path": "/test", "status": [], "text": None, "timeout": 30}
    assert rec["keep_releases"] == 5
    assert rec["state_file"] == "/var/lib/wsgi-deploy/sites/hello.json"


def test_collection_version_matches_galaxy_yml() -> None:
    import yaml

    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    role_vars = yaml.safe_load((ROOT / "roles" / "wsgi" / "vars" / "main.yml").read_text())
    assert role_vars["wsgi_collection_version"] == galaxy["version"]


def test_the_clone_uses_the_collection_through_symlinks_only() -> None:
    """collections/ansible_collections/wsgi/deploy holds only links into this tree: a tool that
    installed the collection over it (ansible-lint's or molecule's local install) would leave a
    stale copy that playbooks from the clone would use instead of the code."""
    tree = ROOT / "collections" / "ansible_collections" / "wsgi" / "deploy"
    entries = sorted(tree.iterdir())
    assert {e.name for e in entries} >= {"galaxy.yml", "meta", "plugins", "roles", "playbooks"}
    for entry in entries:
        assert entry.is_symlink(), f"{entry} is not a symlink"
        assert entry.resolve() == (ROOT / entry.name).resolve()
