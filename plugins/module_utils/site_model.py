"""The collection's site model: validation with messages that name the site and the field,
and normalisation into the records every role consumes (defaults filled in, paths derived).

  wsgi_site_errors(sites, settings)     -> list of human-readable errors (empty when valid)
  wsgi_site_normalize(sites, settings)  -> list of normalised site records (secrets stripped)

`settings` carries the host-level defaults (see roles/wsgi/defaults/main.yml). Everything here is
checked on the controller, before any host is touched; what can only be known on a target (users,
interpreters, symlinks) is checked there by the module wsgi.deploy.site_facts, also before any
change. Input is hostile until checked: every value is validated for the file format it lands in
(env file, /etc/hosts, VirtualHost, server block, unit file, requirements) and every path a site
names is confined to the site's own tree.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import posixpath
import re
from typing import Any

from .site_app import (
    DB_CONTRACT,
    PG_DRIVER,
    PG_SERVER_PACKAGES,
    check_app,
    config_dirs,
    normalize_commands,
    normalize_config_files,
    normalize_database,
)
from .site_services import check_services, normalize_services, unit_clashes
from .stacks import DEFAULT_STACK, STACKS, runs_as_web_user
from .tls import TLS_MODES, check_headers, check_tls, normalize_tls

KINDS = ("wsgi", "django")
MODES = ("daemon", "embedded")
WORKER_CLASSES = ("sync", "gthread", "gevent", "eventlet", "tornado")
GUNICORN_INTS = {  # option -> minimum
    "workers": 1, "threads": 1, "timeout": 1, "graceful_timeout": 1, "keepalive": 1,
    "max_requests": 0, "max_requests_jitter": 0,
}  # fmt: skip
GUNICORN_KEYS = set(GUNICORN_INTS) | {"worker_class", "socket", "extra_args", "preload"}
NGINX_KEYS = {"client_max_body_size", "keepalive", "extra"}
HEALTH_KEYS = {"path", "status", "text", "timeout"}
SOCKET_RE = re.compile(r"^/run/[A-Za-z0-9._/-]+\.sock$")
SIZE_RE = re.compile(r"^[0-9]+[kKmMgG]?$")
STATES = ("present", "absent")
# Where the local sources are staged on the host (one tree per synchronised controller directory).
STAGE_ROOT = "/var/lib/wsgi-deploy/stage"
SITE_KEYS = {
    "name", "domain", "aliases", "path", "kind", "source", "entry", "django_settings",
    "requirements_file", "requirements", "python", "env", "secrets", "static", "media",
    "stack", "mod_wsgi", "gunicorn", "nginx", "user", "share_user", "state", "hosts_address",
    "manage_hosts", "purge_data", "health", "pip_index_url", "keep_releases", "tls", "headers",
    "commands", "config_files", "packages", "django_layer", "database",
    "processes", "timers",
}  # fmt: skip
STATIC_KEYS = {"url", "dir", "package", "subdir"}
PACKAGE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The collection's Django settings layer (roles/wsgi_app/files/wsgi_django_settings.py): it
# imports the project's own settings module, then applies the deployment contract.
DJANGO_LAYER_MODULE = "wsgi_django_settings"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
# useradd's limit (Debian: 32 characters) and Debian's NAME_REGEX, without the trailing '$'.
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
USER_MAX = 32
# Accounts of a fresh Debian install and of the services a WSGI host commonly runs: never an
# app user (the collection would rewrite or share them).
SYSTEM_ACCOUNTS = frozenset(
    "root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats "
    "nobody _apt messagebus systemd-network systemd-resolve systemd-timesync systemd-coredump "
    "systemd-journal-remote sshd postgres mysql redis memcache nginx apache apache2 polkitd "
    "_chrony ntp ntpsec tss uuidd tcpdump dnsmasq avahi statd _rpc usbmux".split()
)
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
PATH_RE = re.compile(r"^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$")
URL_PATH_RE = re.compile(r"^/([A-Za-z0-9._~-]+/)*$")
# A health-check path: an absolute URL path, optionally with a simple query string.
HEALTH_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]*(\?[A-Za-z0-9._~=&%-]*)?$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters a path may have to be written unquoted into a VirtualHost, a server block and a unit.
FS_PATH_RE = re.compile(r"^[A-Za-z0-9._+@/-]+$")
# Any ASCII control character but TAB: none may reach an env file, a config or a unit.
CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
DIRECTIVE_BAD = re.compile(r"[\x00-\x1f\x7f]")
# A Gunicorn command-line argument written into ExecStart=: no quoting, no systemd specifier (%),
# no variable ($), no escape (\), no command separator (;).
GUNICORN_ARG_RE = re.compile(
    r"^[A-Za-z0-9_][A-Za-z0-9_.,:/@+=-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*(=[A-Za-z0-9_.,:/@+=-]*)?$"
)
GIT_URL_RE = re.compile(
    r"^(https?|ssh|git|file)://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+$|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$"
)
GIT_REF_RE = re.compile(r"^(?!-)[A-Za-z0-9._/@^~+-]+$")
INDEX_URL_RE = re.compile(r"^https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+$")
# Keys of the env contract the collection writes for every Django site (never set by a site).
DJANGO_CONTRACT = (
    "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_DATA_DIR", "DJANGO_STATIC_ROOT", "DJANGO_STATIC_URL", "DJANGO_MEDIA_ROOT",
    "DJANGO_MEDIA_URL", "DJANGO_SESSION_COOKIE_SECURE", "DJANGO_CSRF_COOKIE_SECURE",
    "WSGI_DJANGO_PROJECT_SETTINGS", "WSGI_BEHIND_PROXY",
)  # fmt: skip
# pip options a requirements file may carry (anything else, an index above all, is refused).
PIP_FILE_OPTIONS = {"--require-hashes", "--pre", "--prefer-binary", "--only-binary", "--no-binary"}
PIP_INCLUDE_OPTIONS = {"-r", "--requirement", "-c", "--constraint"}
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


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
        module, _sep, attr = entry.partition(":")
        return "callable", module, attr or "application"
    return "script", entry, "application"


def _stack(site: dict[str, Any], settings: dict[str, Any]) -> Any:
    overrides = settings.get("stack_overrides") or {}
    if site.get("name") in overrides:
        return overrides[site["name"]]
    return site.get("stack", settings.get("default_stack", DEFAULT_STACK))


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


def _sites_root(settings: dict[str, Any]) -> str:
    return str(settings.get("sites_root") or "/srv/wsgi")


def _user(site: dict[str, Any], settings: dict[str, Any]) -> str:
    return str(site.get("user") or f"{settings.get('user_prefix', 'wsgi-')}{site.get('name')}")


def _within(path: str, base: str) -> bool:
    """`path` is `base` or below it (both normalised absolute POSIX paths)."""
    return path == base or path.startswith(base.rstrip("/") + "/")


def _confined_rel(value: str) -> str | None:
    """The normalised form of a relative path that stays inside its base, else None."""
    if not value or value.startswith("/") or not FS_PATH_RE.match(value):
        return None
    norm = posixpath.normpath(value)
    if norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


def _real_inside(base_dir: str, rel: str) -> bool:
    """On the controller: `base_dir/rel`, symlinks resolved, is still inside `base_dir`."""
    base = os.path.realpath(base_dir)
    return _within(os.path.realpath(os.path.join(base_dir, rel)), base)


# ---------------------------------------------------------------------------------- a site


class _Errors:
    """Collects 'site X: field F: message' lines."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lines: list[str] = []

    def __call__(self, field: str, msg: str) -> None:
        self.lines.append(f"{self.label}: field '{field}': {msg}")


def _check_site(site: Any, index: int, settings: dict[str, Any]) -> list[str]:
    label = _site_label(site, index)
    if not isinstance(site, dict):
        return [f"{label}: must be a mapping of fields, got {type(site).__name__}"]
    err = _Errors(label)
    unknown = sorted(set(site) - SITE_KEYS)
    if unknown:
        err(unknown[0], f"unknown field (known fields: {', '.join(sorted(SITE_KEYS))})")
    name = site.get("name")
    if not name:
        err("name", "is required")
    elif not isinstance(name, str) or not NAME_RE.match(name):
        err("name", f"{name!r} must be 1-31 chars of a-z, 0-9, '-' or '_', starting with a letter")
    _check_names(site, err)
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
    _check_mod_wsgi(site, err)
    _check_gunicorn_nginx(site, err)
    _check_user(site, settings, err)
    _check_hosts(site, err)
    if state == "absent":
        return err.lines
    check_tls(site, settings, err)
    check_headers(site, err)
    _check_app(site, kind, settings, err)
    _check_env(site, kind, err)
    _check_assets(site, kind, settings, err)
    _check_requirements(site, settings, err)
    _check_release_options(site, err)
    mod_wsgi = site.get("mod_wsgi") if isinstance(site.get("mod_wsgi"), dict) else {}
    as_web_user = stack in STACKS and runs_as_web_user(stack, mod_wsgi.get("mode", "daemon"))
    check_app(site, err, embedded=as_web_user)
    _check_config_templates(site, settings, err)
    check_services(site, err)
    return err.lines


def _check_config_templates(site: dict[str, Any], settings: dict[str, Any], err: _Errors) -> None:
    base = str(settings.get("source_base_dir") or os.getcwd())
    files = site.get("config_files")
    for index, item in enumerate(files if isinstance(files, list) else []):
        template = item.get("template") if isinstance(item, dict) else None
        rel = _confined_rel(template) if isinstance(template, str) else None
        if rel is None:
            continue  # reported by check_config_files
        if not os.path.isfile(os.path.join(base, rel)):
            err(f"config_files[{index}].template", f"{os.path.join(base, rel)} is not a file")
        elif not _real_inside(base, rel):
            err(f"config_files[{index}].template", f"{template!r} is a symlink that leaves {base}")


def _check_names(site: dict[str, Any], err: _Errors) -> None:
    domain = site.get("domain")
    if not domain:
        err("domain", "is required (the site's ServerName / server_name)")
    elif not is_domain(domain):
        err("domain", f"{domain!r} is not a valid lower-case domain name")
    elif domain in LOCAL_NAMES or domain.endswith(".localhost"):
        err("domain", f"{domain!r} is a name of the host itself (/etc/hosts would redirect it)")
    aliases = site.get("aliases", [])
    if not isinstance(aliases, list):
        err("aliases", "must be a list of domain names")
        return
    for alias in aliases:
        if not is_domain(alias):
            err("aliases", f"{alias!r} is not a valid lower-case domain name")
        elif alias in LOCAL_NAMES or alias.endswith(".localhost"):
            err("aliases", f"{alias!r} is a name of the host itself (/etc/hosts would redirect it)")


def _check_mod_wsgi(site: dict[str, Any], err: _Errors) -> None:
    mod_wsgi = site.get("mod_wsgi", {}) or {}
    if not isinstance(mod_wsgi, dict):
        err("mod_wsgi", "must be a mapping (mode, processes, threads, extra)")
        return
    mode = mod_wsgi.get("mode", "daemon")
    if mode not in MODES:
        err("mod_wsgi.mode", f"{mode!r} is not one of {', '.join(MODES)}")
    for key in ("processes", "threads"):
        val = mod_wsgi.get(key)
        if val is not None and not _is_int(val, 1):
            err(f"mod_wsgi.{key}", f"{val!r} must be an integer >= 1")
    if not _single_lines(mod_wsgi.get("extra", [])):
        err("mod_wsgi.extra", "must be a list of single-line Apache directives")


def _single_lines(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, str) and not DIRECTIVE_BAD.search(x) for x in value
    )


def _is_int(val: Any, minimum: int) -> bool:
    return isinstance(val, int) and not isinstance(val, bool) and val >= minimum


def _check_gunicorn_nginx(site: dict[str, Any], err: _Errors) -> None:
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
            not isinstance(x, str) or not GUNICORN_ARG_RE.match(x) for x in extra
        ):
            err(
                "gunicorn.extra_args",
                "must be a list of Gunicorn arguments such as '--backlog=2048' (letters, digits "
                "and . , : / @ + = - only: they are written into the unit's ExecStart=)",
            )
        if not isinstance(gunicorn.get("preload", False), bool):
            err("gunicorn.preload", "must be true or false")
    nginx = site.get("nginx", {}) or {}
    if not isinstance(nginx, dict):
        err("nginx", "must be a mapping (client_max_body_size, keepalive, extra)")
        return
    for key in sorted(set(nginx) - NGINX_KEYS):
        err(f"nginx.{key}", f"unknown option (known: {', '.join(sorted(NGINX_KEYS))})")
    size = nginx.get("client_max_body_size")
    if size is not None and not SIZE_RE.match(str(size)):
        err("nginx.client_max_body_size", f"{size!r} must be a size like '10m', '512k' or '0'")
    keep = nginx.get("keepalive")
    if keep is not None and not _is_int(keep, 0):
        err("nginx.keepalive", f"{keep!r} must be an integer >= 0")
    if not _single_lines(nginx.get("extra", [])):
        err("nginx.extra", "must be a list of single-line Nginx directives")


def _check_user(site: dict[str, Any], settings: dict[str, Any], err: _Errors) -> None:
    user = site.get("user")
    name = site.get("name")
    if user is None:
        if isinstance(name, str) and NAME_RE.match(name):
            derived = _user(site, settings)
            if len(derived) > USER_MAX:
                err(
                    "name",
                    f"{name!r} is too long for its app user {derived!r} ({len(derived)} "
                    f"characters, useradd allows {USER_MAX}): shorten the name or set 'user'",
                )
        if not isinstance(site.get("share_user", False), bool):
            err("share_user", "must be true or false")
        return
    if not isinstance(user, str) or not USER_RE.match(user):
        err(
            "user",
            f"{user!r} must be 1-{USER_MAX} characters of a-z, 0-9, '_' or '-', starting with "
            "a letter or '_'",
        )
    elif user in SYSTEM_ACCOUNTS or user.startswith("systemd-") or user.startswith("_"):
        err(
            "user",
            f"{user!r} is a system account: every site runs as an app user the collection "
            "creates (leave 'user' unset for the default 'wsgi-<name>')",
        )
    if not isinstance(site.get("share_user", False), bool):
        err("share_user", "must be true or false")


def _check_hosts(site: dict[str, Any], err: _Errors) -> None:
    address = site.get("hosts_address")
    if address is not None:
        problem = address_problem(address)
        if problem:
            err("hosts_address", problem)
    if not isinstance(site.get("manage_hosts", True), bool):
        err("manage_hosts", "must be true or false")


def address_problem(address: Any) -> str | None:
    """Why `address` cannot be written into /etc/hosts, or None."""
    if not isinstance(address, str):
        return f"{address!r} must be an IPv4 or IPv6 address"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address!r} is not an IPv4 or IPv6 address"
    if ip.is_unspecified or ip.is_multicast:
        return f"{address!r} cannot be a host's address"
    return None


def _check_app(site: dict[str, Any], kind: str, settings: dict[str, Any], err: _Errors) -> None:
    source = site.get("source")
    src_dir = _source_dir(site, settings)
    installs = bool(site.get("requirements"))
    if source is None and installs:
        src_dir = None  # the app comes from its requirements (a package): no code of its own
        entry = site.get("entry")
        if isinstance(entry, str) and ":" not in entry:
            err(
                "entry",
                f"{entry!r}: a site without a source names its WSGI entry in an installed "
                "package, 'package.module:callable'",
            )
    elif not isinstance(source, dict) or not (source.get("path") or source.get("git")):
        err(
            "source",
            "is required: {path: <dir on the controller>} or {git: <url>, version: <ref>} "
            "(or no source and 'requirements' that install the app)",
        )
        src_dir = None
    elif source.get("path") and source.get("git"):
        err("source", "give either 'path' or 'git', not both")
        src_dir = None
    elif src_dir is not None and not os.path.isdir(src_dir):
        err("source.path", f"{src_dir} is not a directory on the controller")
        src_dir = None
    elif source.get("git"):
        _check_git(source, err)
    entry = site.get("entry")
    if not entry or not isinstance(entry, str):
        err(
            "entry",
            "is required: the WSGI entry, a script file in the source ('hello.wsgi') "
            "or 'package.module:callable'",
        )
        return
    etype, target, attr = _entry_parts(entry)
    if etype == "callable" and (not MODULE_RE.match(target) or not MODULE_RE.match(attr)):
        err("entry", f"{entry!r} is not a valid 'package.module:callable'")
    elif etype == "script" and _confined_rel(target) is None:
        err("entry", f"{entry!r} must be a path relative to the source directory, inside it")
    elif kind == "django" and etype != "callable":
        err("entry", f"{entry!r}: a Django site needs 'project.wsgi:application'")
    elif src_dir is not None:
        if etype == "script":
            found = os.path.isfile(os.path.join(src_dir, target))
            where = os.path.join(src_dir, target)
            if found and not _real_inside(src_dir, target):
                err("entry", f"{entry!r} is a symlink that leaves the source directory")
        else:
            # Not in the source: it may come from an installed package (the release imports it
            # in its virtualenv before it serves).
            found = _module_in(src_dir, target) or _installs(site)
            where = f"{target.replace('.', '/')}.py under {src_dir} (and no requirements)"
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
        if settings_mod is not None:
            if not isinstance(settings_mod, str) or not MODULE_RE.match(settings_mod):
                err("django_settings", f"{settings_mod!r} is not a dotted module name")
            elif (
                src_dir is not None
                and not _module_in(src_dir, settings_mod)
                and not _installs(site)
            ):
                err(
                    "django_settings",
                    f"{settings_mod!r} is not a module of the project: no "
                    f"{settings_mod.replace('.', '/')}.py under {src_dir}",
                )
    python = site.get("python")
    if python is not None and (
        not isinstance(python, str) or not python.startswith("/") or not FS_PATH_RE.match(python)
    ):
        err("python", f"{python!r} must be an absolute path to a python3 interpreter")


def _installs(site: dict[str, Any]) -> bool:
    """The site installs packages besides its code (its entry may come from one of them)."""
    return bool(site.get("requirements") or site.get("requirements_file"))


def _module_in(src_dir: str, module: str) -> bool:
    rel = module.replace(".", "/")
    return os.path.isfile(os.path.join(src_dir, rel + ".py")) or os.path.isfile(
        os.path.join(src_dir, rel, "__init__.py")
    )


def _check_git(source: dict[str, Any], err: _Errors) -> None:
    repo = source.get("git")
    if not isinstance(repo, str) or not GIT_URL_RE.match(repo):
        err(
            "source.git",
            f"{repo!r} is not a git URL (https://, ssh://, git://, file:// or user@host:path)",
        )
    version = source.get("version", "HEAD")
    if not isinstance(version, str) or not GIT_REF_RE.match(version):
        err("source.version", f"{version!r} is not a branch, tag or commit")


def _check_env(site: dict[str, Any], kind: str, err: _Errors) -> None:
    seen: dict[str, str] = {}
    for field in ("env", "secrets"):
        val = site.get(field, {}) or {}
        if not isinstance(val, dict):
            err(field, "must be a mapping of environment variable names to values")
            continue
        for key, value in val.items():
            if not isinstance(key, str) or not ENV_NAME_RE.match(key):
                err(field, f"{key!r} is not a valid environment variable name")
                continue
            # Never quote a secret value in a message: only its name.
            shown = "its value" if field == "secrets" else repr(value)
            if isinstance(value, (dict, list)) or value is None:
                err(f"{field}.{key}", f"{shown} must be a string or a number")
            elif CONTROL_RE.search(str(value)):
                err(
                    f"{field}.{key}",
                    "contains a newline or another control character: an env-file value is one "
                    "line (put multi-line data such as a key in a file)",
                )
            if key in seen:
                err(f"{field}.{key}", f"is also set in '{seen[key]}': set it in one place")
            seen.setdefault(key, field)
            if key in DB_CONTRACT and site.get("database") not in (None, "sqlite"):
                err(
                    f"{field}.{key}",
                    "is set by the collection from the site's 'database' (set it there)",
                )
            if kind == "django" and key in DJANGO_CONTRACT:
                err(
                    f"{field}.{key}",
                    "is set by the collection for every Django site (the deployment contract: "
                    "DEBUG off, ALLOWED_HOSTS from the names, ...): use the site's fields instead",
                )
    env = site.get("env") or {}
    if isinstance(env, dict) and "DJANGO_SECRET_KEY" in env:
        err("env.DJANGO_SECRET_KEY", "is a secret: put it in 'secrets' (from Ansible Vault)")


def _check_assets(site: dict[str, Any], kind: str, settings: dict[str, Any], err: _Errors) -> None:
    name = str(site.get("name"))
    root = f"{_sites_root(settings)}/{name}"
    src_dir = _source_dir(site, settings)
    reserved = {f"{root}/{d}" for d in ("src", "venv", "venvs", "wsgi", "bin", "data", "releases")}
    reserved |= {f"{root}/{d}" for d in ("current", "stage", "repo")}
    dirs: dict[str, str] = {}
    for field in ("static", "media"):
        val = site.get(field)
        if val is None:
            continue
        if not isinstance(val, dict) or not isinstance(val.get("url"), str):
            err(field, "must be a mapping with 'url' (e.g. '/static/') and optional 'dir'")
            continue
        known = STATIC_KEYS if field == "static" else {"url", "dir"}
        for key in sorted(set(val) - known):
            err(f"{field}.{key}", f"unknown option (known: {', '.join(sorted(known))})")
        if not URL_PATH_RE.match(val["url"]):
            err(f"{field}.url", f"{val['url']!r} must be an absolute URL path ending in '/'")
        if field == "static" and ("package" in val or "subdir" in val):
            _check_static_package(val, kind, err)
            continue
        d = val.get("dir")
        if d is None:
            continue
        if not isinstance(d, str) or not FS_PATH_RE.match(d):
            err(f"{field}.dir", f"{d!r} must be a path of letters, digits and . _ - / only")
            continue
        if d.startswith("/"):
            norm = posixpath.normpath(d)
            if not _within(norm, root) or norm == root:
                err(
                    f"{field}.dir",
                    f"{d!r} is outside the site's own tree: a {field} dir is relative to the "
                    f"site's {'source' if field == 'static' else 'directory'} or under {root}/",
                )
                continue
            bad = [r for r in reserved if _within(norm, r) or _within(r, norm)]
            if bad:
                err(f"{field}.dir", f"{d!r} overlaps the site's managed directory {sorted(bad)[0]}")
                continue
            dirs[field] = norm
            continue
        rel = _confined_rel(d)
        if rel is None:
            err(f"{field}.dir", f"{d!r} leaves the site's tree ('..' or an absolute path)")
            continue
        if field == "media":
            # Media are the app's uploads: shared by every release, never inside the code.
            full = f"{root}/{rel}"
            bad = [r for r in reserved if _within(full, r) or _within(r, full)]
            if bad:
                err(f"{field}.dir", f"{d!r} overlaps the site's managed directory {sorted(bad)[0]}")
                continue
            dirs[field] = full
        else:
            if src_dir is not None and os.path.exists(os.path.join(src_dir, rel)):
                if not _real_inside(src_dir, rel):
                    err(f"{field}.dir", f"{d!r} is a symlink that leaves the source directory")
                    continue
            dirs[field] = f"{root}/src/{rel}"
    if (
        "static" in dirs
        and "media" in dirs
        and (_within(dirs["static"], dirs["media"]) or _within(dirs["media"], dirs["static"]))
    ):
        err("media.dir", "must not overlap the static dir (uploads would be served as code)")


def _check_static_package(val: dict[str, Any], kind: str, err: _Errors) -> None:
    """static: {url, package, subdir}: a directory of an installed package, copied into each
    release once its virtualenv is built (the path differs between Python versions)."""
    package, subdir = val.get("package"), val.get("subdir", ".")
    if "dir" in val:
        err("static.dir", "give either 'dir' or 'package' (with 'subdir')")
    if kind == "django":
        err("static.package", "a Django site's static files come from collectstatic")
    if not isinstance(package, str) or not PACKAGE_NAME_RE.match(package):
        err("static.package", f"{package!r} must be the name of a top-level installed package")
    if subdir != "." and (not isinstance(subdir, str) or _confined_rel(subdir) is None):
        err("static.subdir", f"{subdir!r} must be a directory of the package, inside it")


def _check_requirements(site: dict[str, Any], settings: dict[str, Any], err: _Errors) -> None:
    reqs = site.get("requirements", [])
    if not isinstance(reqs, list) or any(not isinstance(r, str) for r in reqs):
        err("requirements", "must be a list of pip requirement strings")
    else:
        for req in reqs:
            problem = requirement_problem(req)
            if problem:
                err("requirements", problem)
    index = site.get("pip_index_url")
    if index is not None and (not isinstance(index, str) or not INDEX_URL_RE.match(index)):
        err("pip_index_url", f"{index!r} must be an http(s) URL")
    req_file = site.get("requirements_file")
    if req_file is None:
        return
    rel = _confined_rel(req_file) if isinstance(req_file, str) else None
    if rel is None:
        err(
            "requirements_file",
            f"{req_file!r} must be a path relative to the source directory, inside it",
        )
        return
    src_dir = _source_dir(site, settings)
    if src_dir is None or not os.path.isdir(src_dir):
        return  # a git source: checked on the target once the release is checked out
    for problem in requirements_file_problems(src_dir, rel):
        err("requirements_file", problem)


def requirement_problem(req: str) -> str | None:
    """Why `req` is not a requirement specifier pip can take from the site list, or None."""
    text = req.strip()
    if not text or CONTROL_RE.search(req):
        return f"{req!r} must be one requirement on one line"
    if text.startswith("-"):
        return (
            f"{req!r} is a pip option, not a requirement: an index is set with the site's "
            "'pip_index_url' or the host's wsgi_pip_index_url"
        )
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover - ansible-core depends on packaging
        if not re.match(
            r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?\s*([<>=!~]=?.*)?$", text
        ):
            return f"{req!r} is not a requirement specifier (PEP 508)"
        return None
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        return f"{req!r} is not a requirement specifier (PEP 508): {first}"
    return None


def requirements_file_problems(src_dir: str, rel: str, _seen: set[str] | None = None) -> list[str]:
    """Problems of a requirements file of a source directory (and of the files it includes)."""
    seen = _seen if _seen is not None else set()
    if rel in seen:
        return []
    seen.add(rel)
    path = os.path.join(src_dir, rel)
    if not os.path.isfile(path):
        return [f"{rel} is not a file in the source ({src_dir})"]
    if not _real_inside(src_dir, rel):
        return [f"{rel} is a symlink that leaves the source directory"]
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{rel} cannot be read: {exc}"]
    problems: list[str] = []
    for number, line in _logical_lines(text):
        where = f"{rel} line {number}"
        parts = line.split()
        head = parts[0]
        if head in PIP_INCLUDE_OPTIONS or head.startswith(("--requirement=", "--constraint=")):
            target = parts[1] if "=" not in head and len(parts) > 1 else head.partition("=")[2]
            inc = _confined_rel(posixpath.join(posixpath.dirname(rel), target)) if target else None
            if inc is None:
                problems.append(f"{where}: {line!r} includes a file outside the source")
            else:
                problems.extend(requirements_file_problems(src_dir, inc, seen))
            continue
        if head.startswith("-"):
            option = head.partition("=")[0]
            if option not in PIP_FILE_OPTIONS:
                problems.append(
                    f"{where}: pip option {option!r} is not allowed in a requirements file "
                    "(an index is set with the site's 'pip_index_url')"
                )
            continue
        spec = " ".join(p for p in parts if not p.startswith("--hash"))
        if spec.endswith(ARCHIVE_SUFFIXES) and "://" not in spec and "@" not in spec:
            if _confined_rel(spec) is None or not os.path.isfile(os.path.join(src_dir, spec)):
                problems.append(f"{where}: {spec!r} is not an archive inside the source")
            continue
        problem = requirement_problem(spec)
        if problem:
            problems.append(f"{where}: {problem}")
    return problems


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) of a requirements file: comments dropped, continuations joined."""
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def _check_release_options(site: dict[str, Any], err: _Errors) -> None:
    keep = site.get("keep_releases")
    if keep is not None and not _is_int(keep, 1):
        err("keep_releases", f"{keep!r} must be an integer >= 1")
    health = site.get("health")
    if health is None:
        return
    if not isinstance(health, dict):
        err("health", "must be a mapping (path, status, text, timeout)")
        return
    for key in sorted(set(health) - HEALTH_KEYS):
        err(f"health.{key}", f"unknown option (known: {', '.join(sorted(HEALTH_KEYS))})")
    path = health.get("path")
    if path is not None and (not isinstance(path, str) or not HEALTH_PATH_RE.match(path)):
        err("health.path", f"{path!r} must be an absolute URL path (e.g. '/healthz')")
    status = health.get("status")
    codes = status if isinstance(status, list) else [status]
    if status is not None and not all(_is_int(c, 100) and c <= 599 for c in codes):
        err("health.status", f"{status!r} must be an HTTP status (or a list of them)")
    text = health.get("text")
    if text is not None and (not isinstance(text, str) or CONTROL_RE.search(text) or not text):
        err("health.text", "must be a non-empty single-line string")
    timeout = health.get("timeout")
    if timeout is not None and not _is_int(timeout, 1):
        err("health.timeout", f"{timeout!r} must be an integer >= 1 (seconds)")


# ------------------------------------------------------------------------- the site list


def settings_errors(settings: dict[str, Any]) -> list[str]:
    """Problems of the host-level settings that end up in files (checked like site fields)."""
    errs: list[str] = []
    for key, var in (("sites_root", "wsgi_sites_root"), ("env_dir", "wsgi_env_dir")):
        val = settings.get(key)
        if val is not None and (
            not isinstance(val, str)
            or not val.startswith("/")
            or not FS_PATH_RE.match(val)
            or posixpath.normpath(val) in ("/", "/etc", "/usr", "/var", "/bin", "/sbin", "/lib")
        ):
            errs.append(f"{var}: {val!r} must be an absolute directory of its own (not '/')")
    prefix = settings.get("user_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not USER_RE.match(prefix + "x")):
        errs.append(f"wsgi_user_prefix: {prefix!r} must be a-z, 0-9, '_' or '-'")
    tls = settings.get("tls")
    if tls is not None and tls not in TLS_MODES:
        errs.append(f"wsgi_tls: {tls!r} is not one of {', '.join(TLS_MODES)}")
    age = settings.get("hsts_max_age")
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 0):
        errs.append(f"wsgi_tls_hsts_max_age: {age!r} must be a number of seconds >= 0")
    address = settings.get("hosts_address")
    if address is not None:
        problem = address_problem(address)
        if problem:
            errs.append(f"wsgi_hosts_address: {problem}")
    return errs


def wsgi_site_errors(sites: Any, settings: dict[str, Any] | None = None) -> list[str]:
    """Every problem in a host's site list, each naming the site and the field."""
    settings = settings or {}
    errs = settings_errors(settings)
    if sites is None:
        return errs
    if not isinstance(sites, list):
        return [*errs, f"wsgi_sites must be a list of sites, got {type(sites).__name__}"]
    for index, site in enumerate(sites):
        errs.extend(_check_site(site, index, settings))
    errs.extend(_cross_site_errors([s for s in sites if isinstance(s, dict)], settings))
    present = [(_site_label(s, i), s) for i, s in enumerate(sites) if isinstance(s, dict)]
    errs.extend(unit_clashes([(lab, s) for lab, s in present if _state(s, settings) != "absent"]))
    return errs


def _cross_site_errors(sites: list[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    errs: list[str] = []
    seen_names: dict[str, int] = {}
    stack_owner: dict[str, str] = {}  # web server -> first present site using it
    sockets: dict[str, str] = {}
    users: dict[str, tuple[str, bool]] = {}  # user -> (first site, shared)
    owner: dict[str, tuple[str, str]] = {}  # domain -> (site, path)
    for index, site in enumerate(sites):
        label = _site_label(site, index)
        name = site.get("name")
        if isinstance(name, str):
            if name in seen_names:
                errs.append(f"{label}: field 'name': {name!r} is used by two sites")
            seen_names[name] = index
        if _state(site, settings) == "absent":
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
        user = _user(site, settings)
        shared = site.get("share_user") is True
        if user in users:
            first, first_shared = users[user]
            if not (shared and first_shared):
                errs.append(
                    f"{label}: field 'user': {user!r} is already the app user of site '{first}': "
                    "every site has its own user, unless both set 'share_user: true'"
                )
        else:
            users[user] = (str(name), shared)
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


# ------------------------------------------------------------------------- normalisation


def wsgi_site_normalize(sites: Any, settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Normalised site records with every default filled in and every path derived.

    Secret values are NOT carried over (only their names), so the records are safe to loop
    over, print and diff.
    """
    settings = settings or {}
    records = [_normalize(site, settings) for site in sites or []]
    _place_staging_trees(records, settings)
    return records


def _place_staging_trees(records: list[dict[str, Any]], s: dict[str, Any]) -> None:
    """Where on the host each controller directory synchronised for the sites is staged, named
    so that it does not depend on where that directory is on the controller (the default
    `source_base_dir` is the playbook's directory: the same inventory run from another checkout,
    workspace or copy then finds the tree it staged before, and no tree is left behind per
    path), nor on which sites use it (adding or removing a site copies nothing again).

    The sources under the host's `source_base_dir` share one tree, `base` (one rsync for all of
    them). A source outside it (synchronised on its own) gets a tree named after the sites
    staged from it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        if rec["source"].get("type") == "local":
            groups.setdefault(rec["source"]["sync_root"], []).append(rec)
    root = str(s.get("stage_root") or STAGE_ROOT)
    base = os.path.normpath(str(s.get("source_base_dir") or os.getcwd())) + "/"
    for sync_root, members in groups.items():
        if sync_root == base:
            stage_base = f"{root}/base"
        else:
            names = "\n".join(sorted({str(rec["name"]) for rec in members}))
            stage_base = f"{root}/{hashlib.sha256(names.encode()).hexdigest()[:12]}"
        for rec in members:
            rec["source"]["stage_base"] = stage_base
            rec["stage_dir"] = posixpath.normpath(f"{stage_base}/{rec['source']['sync_rel']}")


def _normalize(site: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    name = site["name"]
    kind = site.get("kind", "wsgi")
    root = f"{_sites_root(s)}/{name}"
    mod_wsgi = dict(site.get("mod_wsgi") or {})
    mode = mod_wsgi.get("mode", "daemon")
    stack = _stack(site, s)
    user = _user(site, s)
    web_user = s.get("web_user", "www-data")
    run_user = web_user if runs_as_web_user(stack, mode) else user
    entry = site.get("entry") or ""
    etype, target, attr = _entry_parts(entry)
    source = dict(site.get("source") or {"type": "none"})
    stage_dir = f"{root}/stage"
    if source.get("path"):
        source = _local_source(site, s)  # staged where _place_staging_trees says
    elif source.get("git"):
        source = {"type": "git", "repo": source["git"], "version": source.get("version", "HEAD")}
    django_settings = site.get("django_settings")
    if kind == "django" and not django_settings and etype == "callable":
        django_settings = target.rsplit(".", 1)[0] + ".settings"
    django_layer = kind == "django" and bool(site.get("django_layer", True))
    config_files = normalize_config_files(site, root)
    database = normalize_database(site, run_user)
    requirements = list(site.get("requirements") or [])
    if database["engine"] == "postgresql" and not any(
        r.strip().lower().startswith("psycopg") for r in requirements
    ):
        requirements.append(PG_DRIVER)  # the driver, in the site's virtualenv
    path = site.get("path", "/")
    names = [site["domain"]] + list(site.get("aliases") or [])
    nginx = dict(site.get("nginx") or {})
    health = dict(site.get("health") or {})
    status = health.get("status")
    return {
        "name": name,
        "domain": site["domain"],
        "aliases": list(site.get("aliases") or []),
        "names": names,
        "path": path,
        "kind": kind,
        "state": _state(site, s),
        "stack": stack,
        # The web server proxies to an application server of its own (which must then trust the
        # X-Forwarded-Proto the web server sets): the stack has an app role.
        "proxied": bool((STACKS.get(stack) or {}).get("app_role")),
        "source": source,
        "entry": {"type": etype, "target": target, "callable": attr},
        "django_settings": django_settings,
        # The module DJANGO_SETTINGS_MODULE names: the collection's layer over the project's own
        # settings, or the project's settings when it reads the environment itself.
        "django_settings_module": DJANGO_LAYER_MODULE if django_layer else django_settings,
        "django_layer": django_layer,
        "commands": normalize_commands(site, root),
        "config_files": config_files,
        "config_dirs": config_dirs(config_files, root),
        "packages": list(site.get("packages") or []),
        # What apt installs for the site: its packages, and the server of a local database.
        "system_packages": list(site.get("packages") or [])
        + (PG_SERVER_PACKAGES if database["local"] else []),
        "database": database,
        "requirements_file": site.get("requirements_file"),
        "requirements": requirements,
        "pip_index_url": site.get("pip_index_url") or s.get("pip_index_url") or None,
        "python": site.get("python") or s.get("python", "/usr/bin/python3"),
        "env": {str(k): str(v) for k, v in (site.get("env") or {}).items()},
        "secret_names": sorted((site.get("secrets") or {}).keys()),
        "static": _static(site, kind, root),
        "collectstatic": kind == "django",
        "media": _media(site, root),
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
        "health": {
            "path": health.get("path") or path,
            "status": (status if isinstance(status, list) else [status]) if status else [],
            "text": health.get("text"),
            "timeout": health.get("timeout", 30),
        },
        "user": user,
        "share_user": bool(site.get("share_user", False)),
        "run_user": run_user,
        "root": root,
        # Releases: each deploy builds releases/<id>/{src,venv,static} while the old one serves,
        # then switches the `current` link atomically. src, venv and static are stable links
        # through `current`, so every path below stays the same from release to release.
        "releases_dir": f"{root}/releases",
        "current": f"{root}/current",
        "keep_releases": site.get("keep_releases") or s.get("keep_releases", 5),
        "src_dir": f"{root}/src",
        "venv_dir": f"{root}/venv",
        "venvs_dir": f"{root}/venvs",
        "stage_dir": stage_dir,
        "repo_dir": f"{root}/repo",
        "data_dir": f"{root}/data",
        "wsgi_dir": f"{root}/wsgi",
        # One entry file for both stacks: mod_wsgi runs it, Gunicorn imports it as a module.
        "wsgi_file": f"{root}/wsgi/wsgi_entry.py",
        # The collection's settings layer, beside the entry file (a Django site with the layer).
        "django_layer_file": f"{root}/wsgi/{DJANGO_LAYER_MODULE}.py" if django_layer else None,
        "bin_dir": f"{root}/bin",
        "manage_file": f"{root}/bin/manage",
        "run_file": f"{root}/bin/run",
        "env_file": f"{s.get('env_dir', '/etc/wsgi-sites')}/{name}.env",
        "state_file": f"{s.get('state_dir', '/var/lib/wsgi-deploy/sites')}/{name}.json",
        # What the setup commands ran (root-owned, written by wsgi.deploy.site_commands).
        "commands_file": f"{s.get('state_dir', '/var/lib/wsgi-deploy/sites')}/{name}.commands.json",
        "config_dir": f"{root}/config",
        "manage_hosts": bool(site.get("manage_hosts", True)),
        "hosts_address": site.get("hosts_address") or s.get("hosts_address") or "127.0.0.1",
        "tls": normalize_tls(site, s),
        "services": normalize_services({**site, "state": _state(site, s)}, s),
        "headers": {str(k): str(v) for k, v in (site.get("headers") or {}).items()},
        "purge_data": bool(site.get("purge_data", False))
        or (name in (s.get("remove") or []) and bool(s.get("purge"))),
    }


def _local_source(site: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    """A local source. Every source under the controller's `source_base_dir` is synchronised by
    one rsync of that directory (filtered to the sources the host's sites use) into one staging
    tree, so a host costs one transfer, not one per site; sites with the same source share its
    staged copy. Where that tree is (`stage_base`, the site's `stage_dir`) depends on the other
    sites: _place_staging_trees."""
    src = str(_source_dir(site, s))
    base = os.path.normpath(str(s.get("source_base_dir") or os.getcwd()))
    if _within(src, base):
        sync_root, rel = base, os.path.relpath(src, base)
    else:
        sync_root, rel = src, "."
    return {"type": "local", "path": f"{src}/", "sync_root": f"{sync_root}/", "sync_rel": rel}


def _static(site: dict[str, Any], kind: str, root: str) -> dict[str, Any] | None:
    """Where the web server finds a site's static files; `release` is the same place inside a
    release directory (None: a shared directory outside the releases)."""
    val = site.get("static")
    if val is None and kind != "django":
        return None
    val = dict(val or {"url": "/static/"})
    if val.get("package"):  # copied from the installed package into each release
        return {
            "url": val["url"],
            "dir": f"{root}/static",
            "release": "static",
            "package": val["package"],
            "subdir": posixpath.normpath(val.get("subdir") or "."),
        }
    d = val.get("dir")
    if not d:  # Django's collectstatic target, one per release
        return {"url": val["url"], "dir": f"{root}/static", "release": "static"}
    if d.startswith("/"):
        return {"url": val["url"], "dir": posixpath.normpath(d), "release": None}
    rel = posixpath.normpath(d)
    return {"url": val["url"], "dir": f"{root}/src/{rel}", "release": f"src/{rel}"}


def _media(site: dict[str, Any], root: str) -> dict[str, Any] | None:
    val = site.get("media")
    if val is None:
        return None
    d = val.get("dir") or "media"
    full = posixpath.normpath(d if d.startswith("/") else f"{root}/{d}")
    return {"url": val["url"], "dir": full}


def _gunicorn(site: dict[str, Any], s: dict[str, Any], name: str) -> dict[str, Any]:
    g = dict(site.get("gunicorn") or {})
    # The host defaults (wsgi_gunicorn_*) were chosen by `make bench-variants` (README
    # "Benchmark"): gthread, two workers per core, 4 threads each.
    wclass = g.get("worker_class") or s.get("gunicorn_worker_class", "gthread")
    threads = g.get("threads") or (s.get("gunicorn_threads", 4) if wclass == "gthread" else 1)
    return {
        "service": f"gunicorn-{name}",
        "socket": g.get("socket") or f"/run/gunicorn/{name}.sock",
        "workers": g.get("workers") or s.get("gunicorn_workers", 4),
        "worker_class": wclass,
        "threads": threads,
        "timeout": g.get("timeout", 30),
        "graceful_timeout": g.get("graceful_timeout", 30),
        "keepalive": g.get("keepalive", 5),
        "max_requests": g.get("max_requests", 1000),
        "max_requests_jitter": g.get("max_requests_jitter", 100),
        "preload": bool(g.get("preload", False)),
        "extra_args": list(g.get("extra_args") or []),
    }


site_errors = wsgi_site_errors
site_normalize = wsgi_site_normalize
