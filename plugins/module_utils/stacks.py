"""The stack registry: every stack the collection can serve a site with, declared once.

The site model validates `stack` against it and reads what each stack adds to a site; the
playbooks and roles read it through the `wsgi.deploy.stacks` lookup (which roles to run, in
which order, which web server to retire or hand over, which files make up a site's
configuration); the modules and the admin console import it.

Adding a stack (for example uWSGI behind Nginx) is one entry in STACKS (and, for a new web
server, one in WEB_SERVERS) plus the role(s) it names; nothing else names a stack.

A stack:
  label         what the console shows
  web_server    the server that owns ports 80/443 on a host serving this stack (one per host),
                a key of WEB_SERVERS
  web_role      the role that installs, configures and reloads that web server; it has the
                entry points main (serve the sites), reload (apply what differs from the
                deployed-state records) and takes its files and service from WEB_SERVERS
  app_role      the role that runs the sites' application servers (None: the web server runs
                the apps), with entry points main (write their units) and reload
  app_server    what runs the Python code (mod_wsgi loads one Python: the host checks compare it)
  fields        the site fields this stack reads (validated by the site model)
  modes         run modes of the stack: the site field that selects one, the choices, the
                default, and the modes whose app runs as the web server's user
  server_files  per server ("web", "app"), the files of a site's configuration ({name}: the
                site); when one differs from the deployed-state record, that server reloads
A web server:
  label, service, packages, binary (present once installed), test (the configuration test),
  conf_dir, sites_dir / enabled_dir (one file per site, enabled by a link), extra_dirs (more
  files the role writes), marker (in every file the role writes: what it may remove), edited
  (files of conf_dir the role edits in place: the host checks report their content)
An application server with units of its own:
  label, unit_dir, patterns (of its unit files), marker
"""

from __future__ import annotations

from typing import Any

WEB_SERVERS: dict[str, dict[str, Any]] = {
    "apache": {
        "label": "Apache",
        "service": "apache2",
        "packages": ["apache2", "libapache2-mod-wsgi-py3"],
        "binary": "/usr/sbin/apache2ctl",
        "test": ["/usr/sbin/apache2ctl", "configtest"],
        "conf_dir": "/etc/apache2",
        "sites_dir": "/etc/apache2/sites-available",
        "enabled_dir": "/etc/apache2/sites-enabled",
        "extra_dirs": [],
        "marker": "Managed by Ansible (role wsgi_apache)",
        "edited": [],
    },
    "nginx": {
        "label": "Nginx",
        "service": "nginx",
        "packages": ["nginx"],
        "binary": "/usr/sbin/nginx",
        "test": ["/usr/sbin/nginx", "-t", "-q"],
        "conf_dir": "/etc/nginx",
        "sites_dir": "/etc/nginx/sites-available",
        "enabled_dir": "/etc/nginx/sites-enabled",
        "extra_dirs": ["/etc/nginx/conf.d"],
        "marker": "Managed by Ansible (role wsgi_nginx)",
        "edited": ["nginx.conf"],
    },
}

# Application servers with units of their own (mod_wsgi runs inside Apache: none).
APP_SERVERS: dict[str, dict[str, Any]] = {
    "gunicorn": {
        "label": "Gunicorn",
        "unit_dir": "/etc/systemd/system",
        "patterns": ["gunicorn-*.service", "gunicorn-*.socket"],
        "marker": "Managed by Ansible (role wsgi_gunicorn)",
    },
}

STACKS: dict[str, dict[str, Any]] = {
    "apache_mod_wsgi": {
        "label": "Apache + mod_wsgi",
        "web_server": "apache",
        "web_role": "wsgi_apache",
        "app_role": None,
        "app_server": "mod_wsgi",
        "fields": ["mod_wsgi"],
        "modes": {
            "field": "mod_wsgi.mode",
            "choices": ["daemon", "embedded"],
            "default": "daemon",
            "as_web_user": ["embedded"],
        },
        "server_files": {
            "web": [
                "/etc/apache2/sites-available/{name}.conf",
                "/etc/apache2/conf-available/wsgi-sites.conf",
                "/etc/apache2/mods-available/mpm_event.conf",
            ],
            "app": [],
        },
    },
    "nginx_gunicorn": {
        "label": "Nginx + Gunicorn",
        "web_server": "nginx",
        "web_role": "wsgi_nginx",
        "app_role": "wsgi_gunicorn",
        "app_server": "gunicorn",
        "fields": ["gunicorn", "nginx"],
        "modes": None,
        "server_files": {
            "web": [
                "/etc/nginx/sites-available/{name}.conf",
                "/etc/nginx/sites-available/000-wsgi-default.conf",
                "/etc/nginx/nginx.conf",
            ],
            "app": [
                "/etc/systemd/system/gunicorn-{name}.service",
                "/etc/systemd/system/gunicorn-{name}.socket",
            ],
        },
    },
}

DEFAULT_STACK = "apache_mod_wsgi"


def stack_names() -> list[str]:
    return list(STACKS)


def entries() -> list[dict[str, Any]]:
    """Every stack with its name, its web server's entry (`server`) and its app server's units
    (`units`, None when the web server runs the apps): what the lookup returns."""
    out = []
    for name, entry in STACKS.items():
        web = {"name": entry["web_server"], **WEB_SERVERS[entry["web_server"]]}
        out.append(
            {"name": name, **entry, "server": web, "units": APP_SERVERS.get(entry["app_server"])}
        )
    return out


def server_files(stack: str, name: str) -> dict[str, list[str]]:
    """The configuration files of site `name` on `stack`, per server ("web", "app")."""
    files = STACKS.get(stack, {}).get("server_files") or {}
    return {server: [p.format(name=name) for p in paths] for server, paths in files.items()}


def mode(stack: str, site: dict[str, Any]) -> str | None:
    """The run mode of a (raw or normalised) site on `stack`, or None for a stack without modes."""
    modes = (STACKS.get(stack) or {}).get("modes")
    if not modes:
        return None
    value: Any = site
    for key in modes["field"].split("."):
        value = (value or {}).get(key) if isinstance(value, dict) else None
    return value or modes["default"]


def runs_as_web_user(stack: str, site_mode: str | None) -> bool:
    modes = (STACKS.get(stack) or {}).get("modes") or {}
    return site_mode in (modes.get("as_web_user") or [])


def with_app_server(app_server: str) -> list[str]:
    """The stacks whose apps run in `app_server` (e.g. every mod_wsgi stack)."""
    return [name for name, entry in STACKS.items() if entry["app_server"] == app_server]
