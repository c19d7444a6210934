"""Third-party apps with nothing done by hand on the servers, on both stacks and Debian versions:
a stock `startproject` Django project with a settings package, a WSGI app installed only from a
package, setup commands, config files, static files from a package; a requirement that needs a
newer Python refused before any change; a failing setup command and a failing migration reported
as such while the current release keeps serving."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from wsgi_testlib.hoststate import exec_in, host_state
from wsgi_testlib.playbook import molecule_inventory, run_playbook
from wsgi_testlib.web import Site, container_ip

APACHE = "wsgi-mol-apps-apache"  # Debian 12, Apache + mod_wsgi
NGINX = "wsgi-mol-apps-nginx"  # Debian 13, Nginx + Gunicorn
INDEX = "wsgi-mol-apps-index"  # the package index and the external PostgreSQL server
SCENARIO = Path(__file__).resolve().parents[1]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
PYTHON = {APACHE: "3.11", NGINX: "3.13"}
PACKAGE_CSS = (SCENARIO / "apps/hellopkg/apps_hello/htdocs/style.css").read_text()


@pytest.fixture(autouse=True)
def _targets_only(host) -> None:  # noqa: ANN001
    if "wsgi_servers" not in host.ansible.get_variables().get("group_names", []):
        pytest.skip("the package index's container")


def name_of(host) -> str:  # noqa: ANN001
    return str(host.ansible.get_variables()["inventory_hostname"])


def manage(container: str, code: str, name: str = "stockproj") -> str:
    """Python run by a Django site's manage wrapper (`manage shell`), as its app user."""
    rc, out = exec_in(
        container,
        f"sudo -u wsgi-{name} /srv/wsgi/{name}/bin/manage shell -c {json.dumps(code)}",
    )
    assert rc == 0, out
    return out


def vote(site: Site, choice: str) -> int:
    resp = site.session.post(
        site.url(f"/vote/{choice}/"), headers={"Host": site.host}, timeout=30, allow_redirects=False
    )
    assert resp.status_code == 200, resp.text[:300]
    return int(resp.json()["votes"][choice])


# ----------------------------------------------------------------- a stock Django project


def test_stock_project_admin_logs_in_with_its_css(host, site) -> None:  # noqa: ANN001
    stock: Site = site("stock.apps.test")
    page = stock.wait_ok("/admin/login/")
    assert page.status_code == 200, page.text[:300]
    css = re.findall(r'href="(/static/admin/css/[^"]+\.css)"', page.text)
    assert css, page.text[:500]
    for path in css:
        resp = stock.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Content-Type"].startswith("text/css"), resp.headers
        assert len(resp.content) > 100
    password = (EPHEMERAL / "secrets" / "stockproj-admin").read_text().strip()
    resp = stock.post(
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": stock.csrf_token(page.text),
            "username": "admin",
            "password": password,
            "next": "/admin/",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/", resp.text[:500]
    admin = stock.get("/admin/")
    assert admin.status_code == 200 and "Site administration" in admin.text


def test_stock_project_runs_under_the_deployment_contract(host) -> None:  # noqa: ANN001
    """Its own settings say DEBUG = True (base), a django-insecure key, ALLOWED_HOSTS for
    www.example.com (production) and SQLite under BASE_DIR (the root-owned code): the layer
    applied the contract over them."""
    out = manage(
        name_of(host),
        "from django.conf import settings as s; import json; print(json.dumps({'debug': s.DEBUG, "
        "'hosts': s.ALLOWED_HOSTS, 'db': str(s.DATABASES['default']['NAME']), "
        "'insecure': s.SECRET_KEY.startswith('django-insecure'), 'static': s.STATIC_URL}))",
    )
    values = json.loads(out.strip().splitlines()[-1])
    assert values == {
        "debug": False,
        "hosts": ["stock.apps.test"],
        "db": "/srv/wsgi/stockproj/data/db.sqlite3",
        "insecure": False,
        "static": "/static/",
    }
    db = host.file("/srv/wsgi/stockproj/data/db.sqlite3")
    assert db.exists and db.user == "wsgi-stockproj"
    assert not host.file("/srv/wsgi/stockproj/current/src/db.sqlite3").exists
    env = host.file("/etc/wsgi-sites/stockproj.env")
    assert 'DJANGO_SETTINGS_MODULE="wsgi_django_settings"' in env.content_string
    assert 'WSGI_DJANGO_PROJECT_SETTINGS="stockproj.settings.production"' in env.content_string


def test_stock_project_counts_votes(host, site) -> None:  # noqa: ANN001
    stock: Site = site("stock.apps.test")
    before = stock.get("/").json()["votes"].get("yes", 0)
    assert vote(stock, "yes") == before + 1


# ------------------------------------------------------------------- the same on PostgreSQL


def test_postgresql_site_counts_votes_in_its_own_database(host, site) -> None:  # noqa: ANN001
    pg: Site = site("pg.apps.test")
    assert pg.wait_ok("/").status_code == 200
    before = pg.get("/").json()["votes"].get("yes", 0)
    assert vote(pg, "yes") == before + 1
    out = manage(
        name_of(host),
        "from django.db import connection as c; print(c.vendor, c.settings_dict['NAME'], "
        "c.settings_dict['USER'], c.settings_dict['HOST'])",
        name="pgvotes",
    )
    assert "postgresql pgvotes wsgi-pgvotes /var/run/postgresql" in out
    # A role of its own that owns the database; no password (peer authentication).
    rc, owner = exec_in(
        name_of(host),
        'sudo -u postgres psql -At -c "select pg_get_userbyid(datdba) from pg_database '
        "where datname = 'pgvotes'\" -c \"select rolsuper, rolpassword is null from pg_authid "
        "where rolname = 'wsgi-pgvotes'\"",
    )
    assert rc == 0 and owner.split() == ["wsgi-pgvotes", "f|t"], owner
    env = host.file("/etc/wsgi-sites/pgvotes.env").content_string
    assert 'DATABASE_URL="postgresql://wsgi-pgvotes@/pgvotes?host=/var/run/postgresql"' in env
    assert not host.file("/srv/wsgi/pgvotes/data/db.sqlite3").exists


def test_admin_user_made_once_by_a_setup_command(host) -> None:  # noqa: ANN001
    out = manage(
        name_of(host),
        "from django.contrib.auth.models import User; "
        "print(list(User.objects.values_list('username', 'is_superuser')))",
    )
    assert "[('admin', True)]" in out
    markers = json.loads(host.file("/var/lib/wsgi-deploy/sites/stockproj.commands.json").content)
    assert set(markers) == {"admin-user"}
    marker = host.file("/var/lib/wsgi-deploy/sites/stockproj.commands.json")
    assert marker.user == "root" and marker.mode == 0o600


# --------------------------------------------------------------- an app from a package only


def test_packaged_app_serves_from_its_wheel(host, site) -> None:  # noqa: ANN001
    resp = site("pkg.apps.test").wait_ok("/")
    assert resp.status_code == 200, resp.text[:300]
    body = resp.json()
    uid = host.user("wsgi-pkghello").uid
    assert body["app"] == "apps_hello" and body["uid"] == uid
    assert body["python"] == PYTHON[name_of(host)]
    assert body["greeting"] == "Hello from a packaged app"
    # No source: the release's code dir is empty, the app is in the venv.
    assert host.run("ls -A /srv/wsgi/pkghello/current/src").stdout.strip() == ""
    assert host.file("/srv/wsgi/pkghello/current/venv/bin/apps-hello-init").exists


def test_packaged_app_static_files_come_from_the_package(host, site) -> None:  # noqa: ANN001
    resp = site("pkg.apps.test").get("/assets/style.css")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/css")
    assert resp.text == PACKAGE_CSS
    # Copied into the release, whatever lib/python3.X the venv has.
    assert host.file("/srv/wsgi/pkghello/current/static/style.css").content_string == PACKAGE_CSS
    assert site("pkg.apps.test").get("/assets/__init__.py").status_code == 404


def test_packaged_app_config_file_from_a_template_with_a_secret(host) -> None:  # noqa: ANN001
    conf = host.file("/srv/wsgi/pkghello/config/hello.ini")
    assert conf.user == "root" and conf.group == "wsgi-pkghello" and conf.mode == 0o640
    token = (EPHEMERAL / "secrets" / "hello-token").read_text().strip()
    assert f"token = {token}" in conf.content_string
    assert "data_dir = /srv/wsgi/pkghello/data" in conf.content_string


def test_packaged_app_setup_command_made_its_data(host) -> None:  # noqa: ANN001
    db = host.file("/srv/wsgi/pkghello/data/hello.db")
    assert db.exists and db.user == "wsgi-pkghello"
    # Its Debian package, installed with the others before the virtualenvs.
    assert host.package("sqlite3").is_installed
    out = host.run("sqlite3 /srv/wsgi/pkghello/data/hello.db 'select n from visits'")
    assert out.rc == 0 and int(out.stdout) >= 1


def test_check_mode_changes_nothing(host) -> None:  # noqa: ANN001
    """`--check --diff` over every app site (commands, config files, databases, package static
    files): nothing changes on either host, and the setup commands are only reported."""
    if name_of(host) != APACHE:
        pytest.skip("one run checks both hosts")
    before = {c: host_state(c) for c in (APACHE, NGINX)}
    run = run_playbook("site.yml", molecule_inventory(), "--check", "--diff")
    assert run.rc == 0, run.output[-3000:]
    assert {c: host_state(c) for c in (APACHE, NGINX)} == before


# ------------------------------------------------------------------ refused, failing, shown


def _sites() -> list[dict[str, Any]]:
    return list(
        yaml.safe_load((SCENARIO / "group_vars/wsgi_servers/sites.yml").read_text())["wsgi_sites"]
    )


def _extra(tmp_path: Path, **variables: Any) -> str:
    path = tmp_path / f"extra-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(variables))
    return f"@{path}"


def test_requirement_needing_a_newer_python_is_refused_before_any_change(
    host,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    if name_of(host) != APACHE:
        pytest.skip("Debian 12 only (Python 3.11)")
    newer = {
        "name": "newpy",
        "domain": "newpy.apps.test",
        "requirements": ["Django>=6.0"],
        "entry": "newpy.wsgi:application",
    }
    before = host_state(APACHE)
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "--limit",
        APACHE,
        "-e",
        _extra(tmp_path, wsgi_sites=[*_sites(), newer]),
    )
    assert run.rc != 0
    assert (
        "site 'newpy': Django>=6.0 needs Python >=3.12 (the Requires-Python of Django 6.0"
        in run.output
    ), run.output[-3000:]
    assert f"host {APACHE} has Python 3.11 (Debian 12)" in run.output
    assert "Debian 13 has 3.13" in run.output
    assert host_state(APACHE) == before


def test_entry_that_does_not_import_from_its_package_is_refused(
    host,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """A packaged app whose entry names a module the package does not have: the new release is
    refused before it serves, saying which entry does not import."""
    if name_of(host) != NGINX:
        pytest.skip("one host is enough")
    sites = _sites()
    pkg = next(s for s in sites if s["name"] == "pkghello")
    broken = {
        **pkg,
        "name": "badentry",
        "domain": "badentry.apps.test",
        "entry": "apps_hello.nowhere:app",
        "commands": [],
        "config_files": [],
        "static": None,
    }
    broken = {k: v for k, v in broken.items() if v is not None}
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "--limit",
        NGINX,
        "-e",
        _extra(tmp_path, wsgi_sites=[*sites, broken]),
    )
    assert run.rc != 0
    assert "site 'badentry': the new release" in run.output, run.output[-3000:]
    assert "its WSGI entry apps_hello.nowhere:app does not import" in run.output
    assert "No module named 'apps_hello.nowhere'" in run.output
    assert not host.file("/etc/nginx/sites-available/badentry.conf").exists


def test_failing_setup_command_and_failing_migration_do_not_serve(
    host,  # noqa: ANN001
    tmp_path: Path,
    site,  # noqa: ANN001
) -> None:
    """A new release of the stock project whose setup command fails, then one whose migration
    fails: each run fails saying so, and the current release keeps serving."""
    if name_of(host) != NGINX:
        pytest.skip("one host is enough (Nginx + Gunicorn on Debian 13)")
    current = host.file("/srv/wsgi/stockproj/current").linked_to
    base = tmp_path / "apps"
    shutil.copytree(SCENARIO / "apps", base)
    (base / "stockproj/votes/views.py").write_text(
        (base / "stockproj/votes/views.py").read_text() + "\n# a new release\n"
    )
    sites = _sites()
    stock = next(s for s in sites if s["name"] == "stockproj")
    stock["commands"] = [
        *stock["commands"],
        {
            "name": "warm-cache",
            "run": ["python", "-c", "import sys; print('cache warming failed'); sys.exit(3)"],
        },
    ]
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "--limit",
        NGINX,
        "-e",
        _extra(tmp_path, wsgi_sites=sites, wsgi_source_base_dir=str(base)),
    )
    assert run.rc != 0
    assert "site 'stockproj': command 'warm-cache' (before_serve, release" in run.output
    assert "exited 3" in run.output and "cache warming failed" in run.output
    assert "The new release does not serve." in run.output
    assert host.file("/srv/wsgi/stockproj/current").linked_to == current
    assert site("stock.apps.test").wait_ok("/").status_code == 200

    migration = base / "stockproj/votes/migrations/0002_fails.py"
    migration.write_text(
        "from django.db import migrations\n\n\n"
        "def fail(apps, schema_editor):\n"
        "    raise RuntimeError('this migration cannot run on this data')\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('votes', '0001_initial')]\n"
        "    operations = [migrations.RunPython(fail)]\n"
    )
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "--limit",
        NGINX,
        "-e",
        _extra(tmp_path, wsgi_sites=_sites(), wsgi_source_base_dir=str(base)),
    )
    assert run.rc != 0
    assert "site 'stockproj': the migrations of the new release" in run.output, run.output[-3000:]
    assert "RuntimeError: this migration cannot run on this data" in run.output
    assert "the current release keeps serving" in run.output
    assert host.file("/srv/wsgi/stockproj/current").linked_to == current
    assert site("stock.apps.test").wait_ok("/").status_code == 200


def test_external_postgresql_site_counts_votes_there(host, site) -> None:  # noqa: ANN001
    """A password (with '/', '@', ':' and '%') over the network to another server."""
    ext: Site = site("ext.apps.test")
    assert ext.wait_ok("/").status_code == 200
    before = ext.get("/").json()["votes"].get("yes", 0)
    assert vote(ext, "yes") == before + 1
    database = "extvotes_apache" if name_of(host) == APACHE else "extvotes_nginx"
    rc, out = exec_in(
        INDEX,
        f"sudo -u postgres psql -At -d {database} -c "
        "\"select count(*) from votes_vote where choice = 'yes'\"",
    )
    assert rc == 0 and int(out) == before + 1, out
    env = host.file("/etc/wsgi-sites/extvotes.env")
    assert env.mode == 0o640 and env.user == "root"
    password = (EPHEMERAL / "secrets" / "extvotes").read_text().strip()
    assert "DJANGO_DB_PASSWORD=" in env.content_string
    (url,) = re.findall(r'^DATABASE_URL="(.*)"$', env.content_string, re.MULTILINE)
    parts = urlsplit(url)
    assert unquote(parts.password or "") == password and parts.username == "extvotes"
    assert parts.hostname == container_ip(INDEX) and parts.path == f"/{database}"
    record = host.file("/var/lib/wsgi-deploy/sites/extvotes.json").content_string
    assert password not in record


def test_a_redeploy_keeps_the_data_on_both_databases(
    host,  # noqa: ANN001
    tmp_path: Path,
    site,  # noqa: ANN001
) -> None:
    """A new release of the Django sites (a code change): the votes survive on SQLite, on the
    host's PostgreSQL and on the external one."""
    if name_of(host) != APACHE:
        pytest.skip("one run deploys both hosts")
    counts = {}
    for container in (APACHE, NGINX):
        address = container_ip(container)
        for domain in ("stock.apps.test", "pg.apps.test", "ext.apps.test"):
            counts[container, domain] = vote(Site(address, domain), "kept")
    base = tmp_path / "apps"
    shutil.copytree(SCENARIO / "apps", base)
    views = base / "stockproj/votes/views.py"
    views.write_text(views.read_text() + "\n# another release\n")
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "-e",
        _extra(tmp_path, wsgi_source_base_dir=str(base)),
    )
    assert run.rc == 0, run.output[-3000:]
    for (container, domain), count in counts.items():
        current = Site(container_ip(container), domain)
        assert current.wait_ok("/").json()["votes"]["kept"] == count, (container, domain)
        name = {"stock": "stockproj", "pg": "pgvotes", "ext": "extvotes"}[domain.split(".")[0]]
        rc, out = exec_in(container, f"ls /srv/wsgi/{name}/releases | wc -l")
        assert rc == 0 and int(out) >= 2


def test_gunicorn_preload_imports_the_app_once_in_its_master(host, site) -> None:  # noqa: ANN001
    if name_of(host) != NGINX:
        pytest.skip("Gunicorn only")
    resp = site("preload.apps.test").wait_ok("/")
    assert resp.status_code == 200 and "initialised" in resp.text
    main = host.run("systemctl show -p MainPID --value gunicorn-preloaded").stdout.strip()
    workers = host.run(f"pgrep -P {main}").stdout.split()
    assert len(workers) == 3, workers
    imports = host.file("/srv/wsgi/preloaded/data/imports.log").content_string.split()
    assert main in imports, (main, imports)
    assert not set(workers) & set(imports), (workers, imports)


def test_removed_sites_take_their_config_markers_and_purged_database(
    host,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """Last: pkghello removed (its config file with its secret, its env file and its commands'
    markers go; its data stays), pgvotes removed with purge_data (its database and role go)."""
    if name_of(host) != NGINX:
        pytest.skip("one host is enough")
    sites = _sites()
    for site_def in sites:
        if site_def["name"] == "pkghello":
            site_def["state"] = "absent"
        if site_def["name"] == "pgvotes":
            site_def.update(state="absent", purge_data=True)
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "--limit",
        NGINX,
        "-e",
        _extra(tmp_path, wsgi_sites=sites),
    )
    assert run.rc == 0, run.output[-3000:]
    for gone in (
        "/srv/wsgi/pkghello/config",
        "/etc/wsgi-sites/pkghello.env",
        "/var/lib/wsgi-deploy/sites/pkghello.commands.json",
        "/srv/wsgi/pgvotes",
    ):
        assert not host.file(gone).exists, gone
    assert host.file("/srv/wsgi/pkghello/data/hello.db").exists
    rc, out = exec_in(
        NGINX,
        'sudo -u postgres psql -At -c "select count(*) from pg_database where datname = '
        "'pgvotes'\" -c \"select count(*) from pg_roles where rolname = 'wsgi-pgvotes'\"",
    )
    assert rc == 0 and out.split() == ["0", "0"], out
