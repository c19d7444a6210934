"""The collection's site model: validation with messages that name the site and the field,
and normalisation into the records every role consumes (defaults filled in, paths derived).

Filters:
  wsgi_site_errors(sites, settings)     -> list of human-readable errors (empty when valid)
  wsgi_site_normalize(sites, settings)  -> list of normalised site records (secrets stripped)

`settings` carries the host-level defaults (see roles/wsgi/defaults/main.yml).
"""

from __future__ import annotations

import os
import re
from typing import Any

STACKS = ("apache_mod_wsgi", "nginx_gunicorn")
KINDS = ("wsgi", "django")
MODES = ("daemon", "embedded")
WORKER_CLASSES = ("sync", "gthread", "gevent", "eventlet", "tornado")
GUNICORN_INTS = {  # option -> minimum
    "workers": 1, "threads": 1, "timeout": 1, "graceful_timeout": 1, "keepalive": 1,
    "max_requests": 0, "max_requests_jitter": 0,
}  # fmt: skip
GUNICORN_KEYS = set(GUNICORN_INTS) | {"worker_class", "socket", "extra_args"}
NGINX_KEYS = {"client_max_body_size", "keepalive", "extra"}
SOCKET_RE = re.compile(r"^/run/[A-Za-z0-9._/-]+\.sock$")
SIZE_RE = re.compile(r"^[0-9]+[kKmMgG]?$")
STATES = ("present", "absent")
SITE_KEYS = {
    "name", "domain", "aliases", "path", "kind", "source", "entry", "django_settings",
    "requirements_file", "requirements", "python", "env", "secrets", "static", "media",
    "stack", "mod_wsgi", "gunicorn", "nginx", "user", "state", "hosts_address",
    "manage_hosts", "purge_data",
}  # fmt: skip
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PATH_RE = re.compile(r"^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$")
URL_PATH_RE = re.compile(r"^/([A-Za-z0-9._~-]+/)*$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DIRECTIVE_BAD = re.compile(r"[\r\n]")


def is_domain(value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 253 or value != value.lower():
        return False
    labels = value.split(".")
    return all(LABEL_RE.match(label) for label in labels) and not labels[-1].isdigit()


def _site_label(site: Any, index: int) -> str:
    if isinstance(site, dict) and isinstance(site.get("name"), str) and site["name"]:
        return f"site '{site['name']}'"
    return f"site #{index + 1}"


def _entry_parts(entry: str) -> tuple[str, str, str]:
    """('callable', module, attr) for 'pkg.mod:app', ('script', path, 'application') otherwise."""
    if ":" in entry:
        module, _, attr = entry.partition(":")
        return "callable", module, attr or "application"
    return "script", entry, "application"


def _stack(site: dict[str, Any], settings: dict[str, Any]) -> Any:
    overrides = settings.get("stack_overrides") or {}
    if site.get("name") in overrides:
        return overrides[site["name"]]
    return site.get("stack", settings.get("default_stack", STACKS[0]))


def _state(site: dict[str, Any], settings: dict[str, Any]) -> Any:
    if site.get("name") in (settings.get("remove") or []):
        return "absent"
    return site.get("state", "present")


def _source_dir(site: dict[str, Any], settings: dict[str, Any]) -> str | None:
    source = site.get("source")
    if isinstance(source, dict) and isinstance(source.get("path"), str):
        base = settings.get("source_base_dir") or os.getcwd()
        return os.path.normpath(os.path.join(base, source["path"]))
    return None


def _check_site(site: Any, index: int, settings: dict[str, Any]) -> list[str]:
    label = _site_label(site, index)
    if not isinstance(site, dict):
        return [f"{label}: must be a mapping of fields, got {type(site).__name__}"]
    errs: list[str] = []

    def err(field: str, msg: str) -> None:
        errs.append(f"{label}: field '{field}': {msg}")

    unknown = sorted(set(site) - SITE_KEYS)
    if unknown:
        err(unknown[0], f"unknown field (known fields: {', '.join(sorted(SITE_KEYS))})")
    name = site.get("name")
    if not name:
        err("name", "is required")
    elif not isinstance(name, str) or not NAME_RE.match(name):
        err("name", f"{name!r} must be 1-31 chars of a-z, 0-9, '-' or '_', starting with a letter")
    domain = site.get("domain")
    if not domain:
        err("domain", "is required (the site's ServerName / server_name)")
    elif not is_domain(domain):
        err("domain", f"{domain!r} is not a valid lower-case domain name")
    aliases = site.get("aliases", [])
    if not isinstance(aliases, list):
        err("aliases", "must be a list of domain names")
    else:
        for alias in aliases:
            if not is_domain(alias):
                err("aliases", f"{alias!r} is not a valid lower-case domain name")
    path = site.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        err("path", f"{path!r} must start with '/' (e.g. '/' or '/test')")
    elif not PATH_RE.match(path):
        err("path", f"{path!r} must be '/' or a prefix like '/test' (no trailing '/', no spaces)")
    kind = site.get("kind", "wsgi")
    if kind not in KINDS:
        err("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    stack = _stack(site, settings)
    if stack not in STACKS:
        err("stack", f"{stack!r} is not one of {', '.join(STACKS)}")
    state = _state(site, settings)
    if state not in STATES:
        err("state", f"{state!r} is not one of {', '.join(STATES)}")
    mod_wsgi = site.get("mod_wsgi", {}) or {}
    if not isinstance(mod_wsgi, dict):
        err("mod_wsgi", "must be a mapping (mode, processes, threads, extra)")
    else:
        mode = mod_wsgi.get("mode", "daemon")
        if mode not in MODES:
            err("mod_wsgi.mode", f"{mode!r} is not one of {', '.join(MODES)}")
        for key in ("processes", "threads"):
            val = mod_wsgi.get(key)
            if val is not None and (not isinstance(val, int) or isinstance(val, bool) or val < 1):
                err(f"mod_wsgi.{key}", f"{val!r} must be an integer >= 1")
        extra = mod_wsgi.get("extra", [])
        if not isinstance(extra, list) or any(
            not isinstance(x, str) or DIRECTIVE_BAD.search(x) for x in extra
        ):
            err("mod_wsgi.extra", "must be a list of single-line Apache directives")
    errs.extend(_check_gunicorn_nginx(site, label))
    if state == "absent":
        return errs
    errs.extend(_check_app(site, label, kind, settings))
    return errs


def _is_int(val: Any, minimum: int) -> bool:
    return isinstance(val, int) and not isinstance(val, bool) and val >= minimum


def _check_gunicorn_nginx(site: dict[str, Any], label: str) -> list[str]:
    errs: list[str] = []

    def err(field: str, msg: str) -> None:
        errs.append(f"{label}: field '{field}': {msg}")

    gunicorn = site.get("gunicorn", {}) or {}
    if not isinstance(gunicorn, dict):
        err("gunicorn", "must be a mapping (workers, worker_class, threads, timeout, ...)")
    else:
        for key in sorted(set(gunicorn) - GUNICORN_KEYS):
            err(f"gunicorn.{key}", f"unknown option (known: {', '.join(sorted(GUNICORN_KEYS))})")
        for key, minimum in GUNICORN_INTS.items():
            val = gunicorn.get(key)
            if val is not None and not _is_int(val, minimum):
                err(f"gunicorn.{key}", f"{val!r} must be an integer >= {minimum}")
        wclass = gunicorn.get("worker_class", "sync")
        if wclass not in WORKER_CLASSES:
            err("gunicorn.worker_class", f"{wclass!r} is not one of {', '.join(WORKER_CLASSES)}")
        sock = gunicorn.get("socket")
        if sock is not None and (
            not isinstance(sock, str) or not SOCKET_RE.match(sock) or ".." in sock.split("/")
        ):
            err("gunicorn.socket", f"{sock!r} must be a path under /run/ ending in '.sock'")
        extra = gunicorn.get("extra_args", [])
        if not isinstance(extra, list) or any(
            not isinstance(x, str) or DIRECTIVE_BAD.search(x) for x in extra
        ):
            err("gunicorn.extra_args", "must be a list of single-line Gunicorn arguments")
    nginx = site.get("nginx", {}) or {}
    if not isinstance(nginx, dict):
        err("nginx", "must be a mapping (client_max_body_size, keepalive, extra)")
    else:
        for key in sorted(set(nginx) - NGINX_KEYS):
            err(f"nginx.{key}", f"unknown option (known: {', '.join(sorted(NGINX_KEYS))})")
        size = nginx.get("client_max_body_size")
        if size is not None and not SIZE_RE.match(str(size)):
            err("nginx.client_max_body_size", f"{size!r} must be a size like '10m', '512k' or '0'")
        keep = nginx.get("keepalive")
        if keep is not None and not _is_int(keep, 0):
            err("nginx.keepalive", f"{keep!r} must be an integer >= 0")
        extra = nginx.get("extra", [])
        if not isinstance(extra, list) or any(
            not isinstance(x, str) or DIRECTIVE_BAD.search(x) for x in extra
        ):
            err("nginx.extra", "must be a list of single-line Nginx directives")
    return errs


def _check_app(site: dict[str, Any], label: str, kind: str, settings: dict[str, Any]) -> list[str]:
    errs: list[str] = []

    def err(field: str, msg: str) -> None:
        errs.append(f"{label}: field '{field}': {msg}")

    source = site.get("source")
    src_dir = _source_dir(site, settings)
    if not isinstance(source, dict) or not (source.get("path") or source.get("git")):
        err(
            "source", "is required: {path: <dir on the controller>} or {git: <url>, version: <ref>}"
        )
    elif source.get("path") and source.get("git"):
        err("source", "give either 'path' or 'git', not both")
    elif src_dir is not None and not os.path.isdir(src_dir):
        err("source.path", f"{src_dir} is not a directory on the controller")
    entry = site.get("entry")
    if not entry or not isinstance(entry, str):
        err(
            "entry",
            "is required: the WSGI entry, a script file in the source ('hello.wsgi') "
            "or 'package.module:callable'",
        )
    else:
        etype, target, attr = _entry_parts(entry)
        if etype == "callable" and (not MODULE_RE.match(target) or not MODULE_RE.match(attr)):
            err("entry", f"{entry!r} is not a valid 'package.module:callable'")
        elif etype == "script" and (target.startswith("/") or ".." in target.split("/")):
            err("entry", f"{entry!r} must be a path relative to the source directory")
        elif kind == "django" and etype != "callable":
            err("entry", f"{entry!r}: a Django site needs 'project.wsgi:application'")
        elif src_dir is not None and os.path.isdir(src_dir):
            if etype == "script":
                found = os.path.isfile(os.path.join(src_dir, target))
                where = os.path.join(src_dir, target)
            else:
                rel = target.replace(".", "/")
                found = os.path.isfile(os.path.join(src_dir, rel + ".py")) or os.path.isfile(
                    os.path.join(src_dir, rel, "__init__.py")
                )
                where = f"{rel}.py under {src_dir}"
            if not found:
                err("entry", f"WSGI entry {entry!r} not found: no {where}")
    if kind == "django":
        secrets = site.get("secrets") or {}
        if not isinstance(secrets, dict) or not secrets.get("DJANGO_SECRET_KEY"):
            err(
                "secrets",
                "DJANGO_SECRET_KEY is required for a Django site "
                "(from Ansible Vault or the environment, never in the repository)",
            )
        settings_mod = site.get("django_settings")
        if settings_mod is not None and not MODULE_RE.match(str(settings_mod)):
            err("django_settings", f"{settings_mod!r} is not a dotted module name")
    for field in ("env", "secrets"):
        val = site.get(field, {}) or {}
        if not isinstance(val, dict):
            err(field, "must be a mapping of environment variable names to values")
        else:
            bad = [k for k in val if not isinstance(k, str) or not ENV_NAME_RE.match(k)]
            if bad:
                err(field, f"{bad[0]!r} is not a valid environment variable name")
    for field in ("static", "media"):
        val = site.get(field)
        if val is None:
            continue
        if not isinstance(val, dict) or not isinstance(val.get("url"), str):
            err(field, "must be a mapping with 'url' (e.g. '/static/') and optional 'dir'")
        elif not URL_PATH_RE.match(val["url"]):
            err(f"{field}.url", f"{val['url']!r} must be an absolute URL path ending in '/'")
    reqs = site.get("requirements", [])
    if not isinstance(reqs, list) or any(not isinstance(r, str) for r in reqs):
        err("requirements", "must be a list of pip requirement strings")
    python = site.get("python")
    if python is not None and (not isinstance(python, str) or not python.startswith("/")):
        err("python", f"{python!r} must be an absolute path to a python3 interpreter")
    return errs


def wsgi_site_errors(sites: Any, settings: dict[str, Any] | None = None) -> list[str]:
    """Every problem in a host's site list, each naming the site and the field."""
    settings = settings or {}
    if sites is None:
        return []
    if not isinstance(sites, list):
        return [f"wsgi_sites must be a list of sites, got {type(sites).__name__}"]
    errs: list[str] = []
    for index, site in enumerate(sites):
        errs.extend(_check_site(site, index, settings))
    errs.extend(_cross_site_errors([s for s in sites if isinstance(s, dict)], settings))
    return errs


def _cross_site_errors(sites: list[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    errs: list[str] = []
    seen_names: dict[str, int] = {}
    stack_owner: dict[str, str] = {}  # stack -> first present site using it
    sockets: dict[str, str] = {}
    owner: dict[str, tuple[str, str]] = {}  # domain -> (site, path)
    for index, site in enumerate(sites):
        label = _site_label(site, index)
        name = site.get("name")
        if isinstance(name, str):
            if name in seen_names:
                errs.append(f"{label}: field 'name': {name!r} is used by two sites")
            seen_names[name] = index
        if site.get("state", "present") == "absent" or name in (settings.get("remove") or []):
            continue
        stack = _stack(site, settings)
        if stack in STACKS:
            others = [st for st in stack_owner if st != stack]
            if others:
                errs.append(
                    f"{label}: field 'stack': {stack!r}, but site '{stack_owner[others[0]]}' on "
                    f"the same host uses {others[0]!r}: one web server owns port 80, so all the "
                    "sites of a host use the same stack"
                )
            stack_owner.setdefault(stack, str(name))
        gunicorn = site.get("gunicorn") if isinstance(site.get("gunicorn"), dict) else {}
        sock = (gunicorn or {}).get("socket")
        if isinstance(sock, str):
            if sock in sockets:
                errs.append(
                    f"{label}: field 'gunicorn.socket': {sock!r} is already used by site "
                    f"'{sockets[sock]}'"
                )
            sockets.setdefault(sock, str(name))
        path = site.get("path", "/")
        names = [site.get("domain")] + list(site.get("aliases") or [])
        for domain in names:
            if not isinstance(domain, str) or not domain:
                continue
            if domain in owner and owner[domain][0] != name:
                other, other_path = owner[domain]
                field = "domain" if domain == site.get("domain") else "aliases"
                if other_path == path:
                    errs.append(
                        f"{label}: field '{field}': two sites at the same domain+path "
                        f"{domain}{path if path != '/' else '/'} ('{other}' and '{name}')"
                    )
                else:
                    errs.append(
                        f"{label}: field '{field}': domain {domain!r} is already used by site "
                        f"'{other}' (one VirtualHost/server block per site: give each site its "
                        "own names)"
                    )
            else:
                owner.setdefault(domain, (str(name), path))
    return errs


def wsgi_site_normalize(sites: Any, settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Normalised site records with every default filled in and every path derived.

    Secret values are NOT carried over (only their names), so the records are safe to loop
    over, print and diff.
    """
    settings = settings or {}
    out: list[dict[str, Any]] = []
    for site in sites or []:
        out.append(_normalize(site, settings))
    return out


def _normalize(site: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    name = site["name"]
    kind = site.get("kind", "wsgi")
    root = f"{s.get('sites_root', '/srv/wsgi')}/{name}"
    src = f"{root}/src"
    mod_wsgi = dict(site.get("mod_wsgi") or {})
    mode = mod_wsgi.get("mode", "daemon")
    stack = _stack(site, s)
    user = site.get("user") or f"{s.get('user_prefix', 'wsgi-')}{name}"
    web_user = s.get("web_user", "www-data")
    run_user = web_user if (stack == "apache_mod_wsgi" and mode == "embedded") else user
    entry = site.get("entry") or ""
    etype, target, attr = _entry_parts(entry)
    source = dict(site.get("source") or {})
    if source.get("path"):
        source = {"type": "local", "path": _source_dir(site, s) + "/"}
    elif source.get("git"):
        source = {"type": "git", "repo": source["git"], "version": source.get("version", "HEAD")}

    def asset(key: str, default_url: str | None, default_dir: str) -> dict[str, Any] | None:
        val = site.get(key)
        if val is None and default_url is None:
            return None
        val = dict(val or {"url": default_url})
        d = val.get("dir") or default_dir
        return {"url": val["url"], "dir": d if d.startswith("/") else f"{src}/{d}"}

    django_settings = site.get("django_settings")
    if kind == "django" and not django_settings and etype == "callable":
        django_settings = target.rsplit(".", 1)[0] + ".settings"
    static = asset("static", "/static/" if kind == "django" else None, f"{root}/static")
    media = asset("media", None, f"{root}/media")
    path = site.get("path", "/")
    names = [site["domain"]] + list(site.get("aliases") or [])
    nginx = dict(site.get("nginx") or {})
    return {
        "name": name,
        "domain": site["domain"],
        "aliases": list(site.get("aliases") or []),
        "names": names,
        "path": path,
        "kind": kind,
        "state": _state(site, s),
        "stack": stack,
        "source": source,
        "entry": {"type": etype, "target": target, "callable": attr},
        "django_settings": django_settings,
        "requirements_file": site.get("requirements_file"),
        "requirements": list(site.get("requirements") or []),
        "python": site.get("python") or s.get("python", "/usr/bin/python3"),
        "env": {str(k): str(v) for k, v in (site.get("env") or {}).items()},
        "secret_names": sorted((site.get("secrets") or {}).keys()),
        "static": static,
        "collectstatic": kind == "django" and static is not None,
        "media": media,
        "mod_wsgi": {
            "mode": mode,
            "processes": mod_wsgi.get("processes") or s.get("processes", 2),
            "threads": mod_wsgi.get("threads") or s.get("threads", 15),
            "extra": list(mod_wsgi.get("extra") or []),
        },
        "gunicorn": _gunicorn(site, s, name),
        "nginx": {
            "client_max_body_size": str(nginx.get("client_max_body_size", "10m")),
            "keepalive": nginx.get("keepalive", 16),
            "extra": list(nginx.get("extra") or []),
        },
        "user": user,
        "run_user": run_user,
        "root": root,
        "src_dir": src,
        "venv_dir": f"{root}/venv",
        "data_dir": f"{root}/data",
        "wsgi_dir": f"{root}/wsgi",
        # One entry file for both stacks: mod_wsgi runs it, Gunicorn imports it as a module.
        "wsgi_file": f"{root}/wsgi/wsgi_entry.py",
        "manage_file": f"{root}/bin/manage",
        "env_file": f"{s.get('env_dir', '/etc/wsgi-sites')}/{name}.env",
        "manage_hosts": bool(site.get("manage_hosts", True)),
        "hosts_address": site.get("hosts_address") or s.get("hosts_address") or "127.0.0.1",
        "purge_data": bool(site.get("purge_data", False))
        or (name in (s.get("remove") or []) and bool(s.get("purge"))),
    }


def _gunicorn(site: dict[str, Any], s: dict[str, Any], name: str) -> dict[str, Any]:
    g = dict(site.get("gunicorn") or {})
    wclass = g.get("worker_class", "sync")
    return {
        "service": f"gunicorn-{name}",
        "socket": g.get("socket") or f"/run/gunicorn/{name}.sock",
        "workers": g.get("workers") or s.get("gunicorn_workers", 3),
        "worker_class": wclass,
        "threads": g.get("threads") or (4 if wclass == "gthread" else 1),
        "timeout": g.get("timeout", 30),
        "graceful_timeout": g.get("graceful_timeout", 30),
        "keepalive": g.get("keepalive", 5),
        "max_requests": g.get("max_requests", 1000),
        "max_requests_jitter": g.get("max_requests_jitter", 100),
        "extra_args": list(g.get("extra_args") or []),
    }
