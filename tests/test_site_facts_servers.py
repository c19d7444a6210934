"""Unit tests of what wsgi.deploy.site_facts (plugins/modules/site_facts.py) reports about the
servers: the files the roles wrote (found by their marker) and the files the web servers' roles
edit in place, which the roles then take from the host checks instead of reading them again."""

from __future__ import annotations

from pathlib import Path

import yaml
from wsgi_testlib.modules import ROOT, load_module

facts = load_module("site_facts")
from ansible_collections.wsgi.deploy.plugins.module_utils import (  # noqa: E402
    site_services,
    stacks,
)

WORKERS = ROOT / "roles" / "wsgi_workers"


def _unit(path: Path, marker: str | None) -> Path:
    head = f"# {marker} site=demo\n" if marker else "# written by hand\n"
    path.write_text(head + "[Service]\nExecStart=/bin/true\n")
    return path


def test_the_units_of_processes_and_timers_are_found_by_name_and_marker(tmp_path: Path) -> None:
    marker = site_services.UNIT_MARKER
    ours = [
        _unit(tmp_path / "wsgi-demo-worker.service", marker),
        _unit(tmp_path / "wsgi-demo-nightly.timer", marker),
    ]
    _unit(tmp_path / "wsgi-demo-by-hand.service", None)  # another admin's unit: kept
    _unit(tmp_path / "gunicorn-demo.service", marker)  # not a process or timer name
    (tmp_path / "wsgi-dir.service").mkdir()  # not a file
    found = facts.managed_files([str(tmp_path)], site_services.UNIT_PATTERNS, marker)
    assert found == sorted(str(p) for p in ours)


def test_the_workers_role_and_the_host_checks_agree_on_the_units() -> None:
    """The role finds its units itself only when pointed at another directory; the host checks
    search with the role's own default directory, names and marker."""
    role_vars = yaml.safe_load((WORKERS / "vars" / "main.yml").read_text())
    defaults = yaml.safe_load((WORKERS / "defaults" / "main.yml").read_text())
    tasks = yaml.safe_load((WORKERS / "tasks" / "units.yml").read_text())
    find = next(t for t in tasks if "ansible.builtin.find" in t)["ansible.builtin.find"]
    assert role_vars["wsgi_workers_marker"] == site_services.UNIT_MARKER
    assert defaults["wsgi_workers_unit_dir"] == site_services.UNIT_DIR
    assert find["patterns"] == site_services.UNIT_PATTERNS


def test_text_files_are_read_only_when_small_and_utf8(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("http {\n\tserver_tokens off;\n}\n")
    assert facts.read_text(str(conf)) == conf.read_text()
    assert facts.read_text(str(tmp_path / "missing.conf")) is None
    big = tmp_path / "big.conf"
    big.write_bytes(b"#" * 2049)
    assert facts.read_text(str(big), limit=2048) is None
    assert facts.read_text(str(big), limit=2049) == "#" * 2049
    binary = tmp_path / "binary.conf"
    binary.write_bytes(b"\xff\xfe\x00")
    assert facts.read_text(str(binary)) is None


def test_every_web_server_declares_the_files_its_role_edits() -> None:
    """Nginx's role sets server_tokens in nginx.conf (the host checks read it for the role);
    Apache's role edits none of Debian's files."""
    assert {name: web["edited"] for name, web in stacks.WEB_SERVERS.items()} == {
        "apache": [],
        "nginx": ["nginx.conf"],
    }


def test_a_server_serves_the_sites_whose_record_and_own_files_are_there() -> None:
    """What a web server must keep serving through a change of its configuration: a site that
    left the site list lost its server block and units (its record stays) and, when it comes
    back, is served again, not checked first as if it had never stopped."""
    nginx = {"stack": "nginx_gunicorn"}
    records = {
        "kept": nginx,
        "left": nginx,  # its server block and units were removed when it left the list
        "units-gone": nginx,  # a run died between removing its units and its server block
        "on-apache": {"stack": "apache_mod_wsgi"},
        "new": None,
        "odd": {"stack": "no-such-stack"},
    }
    managed = {
        "nginx": [
            "/etc/nginx/sites-available/kept.conf",
            "/etc/nginx/sites-available/units-gone.conf",
            "/etc/nginx/conf.d/wsgi-deploy.conf",
        ],
        "apache": ["/etc/apache2/sites-available/on-apache.conf"],
        "gunicorn": [
            "/etc/systemd/system/gunicorn-kept.service",
            "/etc/systemd/system/gunicorn-kept.socket",
        ],
        "workers": [],
    }
    assert facts.serving(records, managed) == {"apache": ["on-apache"], "nginx": ["kept"]}
    assert facts.serving({"kept": nginx}, {}) == {"apache": [], "nginx": []}
