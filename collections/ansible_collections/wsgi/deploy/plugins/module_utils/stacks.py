"""The stack registry: every stack the collection can serve a site with, declared once.

The site model validates `stack` against it, the playbooks and roles read it through the
`wsgi.deploy.stacks` lookup, and the admin console imports it. Adding a stack (for example uWSGI
behind Nginx) is one entry here plus the role(s) it names.

Keys of an entry:
  label        what the console shows
  web_server   the server that owns ports 80/443 on a host serving this stack (one per host)
  web_role     the role that installs, configures, reloads and retires that web server
  app_role     the role that runs the sites' application servers (None: the web server runs them)
  fields       the site fields this stack reads (validated by the site model)
  modes        for stacks with run modes: the allowed values and the default
  server_files per server ("web", "app"), the files of a site's configuration ({name}: the site);
               when one differs from the deployed-state record, that server reloads the site
               (Debian's paths, the roles' defaults)
"""

from __future__ import annotations

from typing import Any

STACKS: dict[str, dict[str, Any]] = {
    "apache_mod_wsgi": {
        "label": "Apache + mod_wsgi",
        "web_server": "apache",
        "web_role": "wsgi_apache",
        "app_role": None,
        "fields": ["mod_wsgi"],
        "modes": {"field": "mod_wsgi.mode", "choices": ["daemon", "embedded"], "default": "daemon"},
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


def web_servers() -> list[str]:
    return sorted({entry["web_server"] for entry in STACKS.values()})


def server_files(stack: str, name: str) -> dict[str, list[str]]:
    """The configuration files of site `name` on `stack`, per server ("web", "app")."""
    files = STACKS.get(stack, {}).get("server_files") or {}
    return {server: [p.format(name=name) for p in paths] for server, paths in files.items()}
