"""What a site's app needs besides its code: setup commands run at named points of a deploy
(`commands`), config files written from inventory variables and secrets (`config_files`), Debian
packages (`packages`), its database (`database`), and the Django settings layer switch
(`django_layer`). Their validation and their normalised form.

Pure Python: the site model imports it on the controller, in the console and on targets.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
from collections.abc import Callable
from typing import Any

Report = Callable[[str, str], None]

# When a command runs: after the new release's virtualenv is built (before Django's steps), before
# the new release serves (after the migrations, before its health check and the switch), after
# it serves (the site answered through its web server).
COMMAND_POINTS = ("after_venv", "before_serve", "after_serve")
COMMAND_KEYS = {"name", "run", "at", "creates", "unless", "once", "timeout"}
COMMAND_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
# A relative path inside the site's directory (no '..', no absolute path, no odd characters).
REL_PATH_RE = re.compile(r"^[A-Za-z0-9._+@-]+(/[A-Za-z0-9._+@-]+)*$")
# Where a config file may be written: the site's own config dir (root-owned: a directory the app
# user can write, such as data/, could be swapped for a symlink between a check and a root write).
CONFIG_DIRS = ("config",)
CONFIG_KEYS = {"path", "content", "template", "mode"}
CONFIG_MODES = ("0600", "0640", "0644")
# Debian's package name policy (lower case, digits, + - .), with an optional architecture.
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$")
DEFAULT_TIMEOUT = 600
DB_ENGINES = ("sqlite", "postgresql")
DB_KEYS = {"engine", "host", "port", "name", "user", "password", "sslmode"}
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# A PostgreSQL database or role name the collection writes unquoted into a URL and an env file.
DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
DB_HOST_RE = re.compile(r"^[A-Za-z0-9.:-]{1,253}$")
# What a local PostgreSQL needs on the host (the server; psycopg2 for community.postgresql), and
# the driver every PostgreSQL site gets in its virtualenv.
PG_SERVER_PACKAGES = ["postgresql", "python3-psycopg2"]
PG_DRIVER = "psycopg[binary]>=3.1"
# Keys of the env contract the collection writes for a site with a database.
DB_CONTRACT = (
    "DATABASE_URL", "DJANGO_DB_ENGINE", "DJANGO_DB_NAME", "DJANGO_DB_USER", "DJANGO_DB_PASSWORD",
    "DJANGO_DB_HOST", "DJANGO_DB_PORT", "DJANGO_DB_SSLMODE",
)  # fmt: skip


def argv_of(value: Any) -> list[str] | None:
    """A command as an argv list (a string is split the way a shell would, without running one),
    or None when it cannot be one."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError:
            return None
    elif isinstance(value, list) and all(isinstance(x, (str, int)) for x in value):
        argv = [str(x) for x in value]
    else:
        return None
    if not argv or any("\x00" in a for a in argv) or not argv[0]:
        return None
    return argv


def _confined(value: Any) -> str | None:
    if not isinstance(value, str) or not REL_PATH_RE.match(value):
        return None
    norm = posixpath.normpath(value)
    if norm in (".", "..") or norm.startswith("../") or "/../" in f"/{norm}/":
        return None
    return norm


def check_commands(site: dict[str, Any], err: Report) -> None:
    commands = site.get("commands")
    if commands is None:
        return
    if not isinstance(commands, list):
        err("commands", "must be a list of commands (name, run, at, creates, unless, once)")
        return
    seen: set[str] = set()
    for index, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            err(f"commands[{index}]", "must be a mapping with 'name' and 'run'")
            continue
        name = cmd.get("name")
        field = f"commands.{name}" if isinstance(name, str) and name else f"commands[{index}]"
        for key in sorted(set(cmd) - COMMAND_KEYS):
            err(f"{field}.{key}", f"unknown option (known: {', '.join(sorted(COMMAND_KEYS))})")
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name):
            err(field, f"name {name!r} must be 1-41 chars of a-z, 0-9, '-' or '_'")
        elif name in seen:
            err(field, "two commands of the site have this name")
        else:
            seen.add(name)
        if argv_of(cmd.get("run")) is None:
            err(
                f"{field}.run",
                "must be a command: an argv list or a string split like a shell would (no shell "
                "runs it; use ['sh', '-c', '...'] for one)",
            )
        at = cmd.get("at", "before_serve")
        if at not in COMMAND_POINTS:
            err(f"{field}.at", f"{at!r} is not one of {', '.join(COMMAND_POINTS)}")
        if "unless" in cmd and argv_of(cmd["unless"]) is None:
            err(f"{field}.unless", "must be a command (an argv list or a string)")
        if "creates" in cmd and _confined(cmd["creates"]) is None:
            err(
                f"{field}.creates",
                f"{cmd['creates']!r} must be a path relative to the site's directory, inside it "
                "(e.g. 'data/app.db')",
            )
        if not isinstance(cmd.get("once", False), bool):
            err(f"{field}.once", "must be true or false")
        timeout = cmd.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
            err(f"{field}.timeout", f"{timeout!r} must be a number of seconds >= 1")


def check_config_files(site: dict[str, Any], err: Report) -> None:
    files = site.get("config_files")
    if files is None:
        return
    if not isinstance(files, list):
        err("config_files", "must be a list of files (path, content or template, mode)")
        return
    seen: set[str] = set()
    for index, item in enumerate(files):
        field = f"config_files[{index}]"
        if not isinstance(item, dict):
            err(field, "must be a mapping with 'path' and 'content' or 'template'")
            continue
        for key in sorted(set(item) - CONFIG_KEYS):
            err(f"{field}.{key}", f"unknown option (known: {', '.join(sorted(CONFIG_KEYS))})")
        path = _confined(item.get("path"))
        if path is None or path.split("/")[0] not in CONFIG_DIRS or "/" not in path:
            err(
                f"{field}.path",
                f"{item.get('path')!r} must be a file under the site's config/ directory, "
                "relative to the site's directory (e.g. 'config/app.ini'; not data/, which the "
                "app user can change: point the app at the file in config/)",
            )
        elif path in seen:
            err(f"{field}.path", f"{path} is written by two entries")
        else:
            seen.add(path)
        has_content, has_template = "content" in item, "template" in item
        if has_content == has_template:
            err(field, "give either 'content' (text, may come from Vault) or 'template'")
        elif has_content and not isinstance(item["content"], str):
            err(f"{field}.content", "must be text")
        elif has_content and "\x00" in item["content"]:
            err(f"{field}.content", "must not contain a NUL character")
        elif has_template and _confined(item["template"]) is None:
            err(
                f"{field}.template",
                f"{item['template']!r} must be a template file relative to the inventory's "
                "source base directory (wsgi_source_base_dir), inside it",
            )
        mode = str(item.get("mode", "0640"))
        if mode not in CONFIG_MODES:
            err(f"{field}.mode", f"{mode!r} is not one of {', '.join(CONFIG_MODES)}")


def check_packages(site: dict[str, Any], err: Report) -> None:
    packages = site.get("packages")
    if packages is None:
        return
    if not isinstance(packages, list):
        err("packages", "must be a list of Debian package names")
        return
    for pkg in packages:
        if not isinstance(pkg, str) or not PACKAGE_RE.match(pkg):
            err("packages", f"{pkg!r} is not a Debian package name")


def database_value(site: dict[str, Any]) -> dict[str, Any]:
    raw = site.get("database", "sqlite")
    return {"engine": raw} if isinstance(raw, str) else dict(raw) if isinstance(raw, dict) else {}


def check_database(site: dict[str, Any], embedded: bool, err: Report) -> None:
    raw = site.get("database")
    if raw is None:
        return
    if not isinstance(raw, (str, dict)):
        err("database", f"must be one of {', '.join(DB_ENGINES)} or a mapping with 'engine'")
        return
    db = database_value(site)
    for key in sorted(set(db) - DB_KEYS):
        err(f"database.{key}", f"unknown option (known: {', '.join(sorted(DB_KEYS))})")
    engine = db.get("engine", "sqlite")
    if engine not in DB_ENGINES:
        err("database.engine", f"{engine!r} is not one of {', '.join(DB_ENGINES)}")
        return
    if engine == "sqlite":
        extra = sorted(set(db) - {"engine"})
        if extra:
            err(f"database.{extra[0]}", "only for engine 'postgresql' (SQLite lives in data/)")
        return
    host = db.get("host")
    if host is not None and (not isinstance(host, str) or not DB_HOST_RE.match(host)):
        err("database.host", f"{host!r} must be a host name or an address")
    port = db.get("port")
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535
    ):
        err("database.port", f"{port!r} must be a port number")
    for key in ("name", "user"):
        val = db.get(key)
        if val is not None and (not isinstance(val, str) or not DB_NAME_RE.match(val)):
            err(f"database.{key}", f"{val!r} must be 1-63 chars of a-z, 0-9, '_' or '-'")
    password = db.get("password")
    if password is not None and (
        not isinstance(password, str) or any(ord(c) < 32 or ord(c) == 127 for c in password)
    ):
        err("database.password", "must be one line of text (from Ansible Vault)")
    sslmode = db.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        err("database.sslmode", f"{sslmode!r} is not one of {', '.join(SSLMODES)}")
    if host is None:
        for key in ("port", "password", "sslmode"):
            if db.get(key) is not None:
                err(
                    f"database.{key}",
                    "only for an external server ('host'): the local PostgreSQL is reached by "
                    "its socket with peer authentication as the app user",
                )
        if embedded:
            err(
                "database",
                "a local PostgreSQL authenticates the app user (peer), but in mod_wsgi embedded "
                "mode the app runs as the web server's user: use daemon mode, or an external "
                "server with a password",
            )
    elif db.get("user") is None or db.get("name") is None:
        err("database", "an external PostgreSQL ('host') needs 'name' and 'user'")


def normalize_database(site: dict[str, Any], run_user: str) -> dict[str, Any]:
    """The site's database without its password (only `has_password`)."""
    db = database_value(site)
    engine = db.get("engine", "sqlite")
    if engine != "postgresql":
        return {"engine": "sqlite", "local": False}
    local = db.get("host") is None
    return {
        "engine": "postgresql",
        "local": local,
        "host": db.get("host") or "",
        "port": db.get("port") or (None if local else 5432),
        "name": db.get("name") or str(site["name"]).replace("-", "_"),
        "user": db.get("user") or run_user,
        "sslmode": db.get("sslmode") or "",
        "has_password": bool(db.get("password")),
    }


def check_app(site: dict[str, Any], err: Report, embedded: bool = False) -> None:
    check_commands(site, err)
    check_config_files(site, err)
    check_packages(site, err)
    check_database(site, embedded, err)
    if not isinstance(site.get("django_layer", True), bool):
        err("django_layer", "must be true or false")


def normalize_commands(site: dict[str, Any], root: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cmd in site.get("commands") or []:
        argv = argv_of(cmd["run"]) or []
        unless = argv_of(cmd["unless"]) if "unless" in cmd else None
        creates = f"{root}/{_confined(cmd['creates'])}" if cmd.get("creates") else None
        fingerprint = json.dumps([argv, unless, creates], sort_keys=True)
        out.append(
            {
                "name": cmd["name"],
                "at": cmd.get("at", "before_serve"),
                "argv": argv,
                "unless": unless,
                "creates": creates,
                "once": bool(cmd.get("once", False)),
                "timeout": cmd.get("timeout", DEFAULT_TIMEOUT),
                "fingerprint": hashlib.sha256(fingerprint.encode()).hexdigest()[:16],
            }
        )
    return out


def normalize_config_files(site: dict[str, Any], root: str) -> list[dict[str, Any]]:
    """The config files without their content (it may hold secrets: the role renders it)."""
    return [
        {
            "path": f"{root}/{_confined(item['path'])}",
            "template": item.get("template"),
            "mode": str(item.get("mode", "0640")),
        }
        for item in site.get("config_files") or []
    ]


def config_dirs(files: list[dict[str, Any]], root: str) -> list[str]:
    """The directories the config files need: config/ and its subdirectories (root-owned)."""
    dirs: set[str] = set()
    for item in files:
        parent = posixpath.dirname(item["path"])
        while parent != root and parent.startswith(root + "/"):
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    return sorted(dirs)
