"""Load a site's environment file (KEY="value" lines, systemd EnvironmentFile syntax).

Installed by Ansible (role wsgi_app) next to each site's WSGI entry file. Imported by the entry
file (mod_wsgi's SetEnv does not reach os.environ; Gunicorn's workers read it the same way, so a
setting removed from the file is gone after a graceful reload) and run as a script by the
site's `manage` wrapper:

  python wsgi_site_env.py [--release DIR] [--static-root DIR] ENV_FILE MANAGE_PY [ARGS...]
  python wsgi_site_env.py --release DIR --exec ENV_FILE COMMAND [ARGS...]

With --exec (the site's `run` wrapper: setup commands, workers, timers, an operator's shell
command) it replaces itself with COMMAND in the release: the site's environment, the release's
virtualenv first on PATH (VIRTUAL_ENV set), the collection's settings layer and the release's code
importable (PYTHONPATH), the release's code as the working directory.

The file is parsed exactly as systemd parses an EnvironmentFile=: inside double quotes a
backslash escapes one of  " \\ ` $  and is kept before any other character; the collection writes
every value double-quoted and one line long (the site model refuses newlines), so the app, its
manage wrapper and any systemd unit of the site read the same values.
"""

from __future__ import annotations

import os
import runpy
import sys

_ESCAPED = '"\\`$'


def parse_value(raw: str) -> str:
    """The value of one assignment, as systemd reads it."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out: list[str] = []
        body = value[1:-1]
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                out.append(nxt if nxt in _ESCAPED else ch + nxt)
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    return value


def read_env(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if not line or line.startswith(("#", ";")) or "=" not in line:
                continue
            key, _sep, value = line.partition("=")
            values[key.strip()] = parse_value(value)
    return values


def load_env(path: str) -> None:
    """Put every KEY=value of the file into os.environ (later lines win)."""
    os.environ.update(read_env(path))


def exec_environ(env_file: str, release: str, base: dict[str, str]) -> dict[str, str]:
    """The environment a command of the site runs with in `release`."""
    environ = dict(base)
    environ.update(read_env(env_file))
    venv = os.path.join(release, "venv")
    environ["VIRTUAL_ENV"] = venv
    environ["PATH"] = os.path.join(venv, "bin") + os.pathsep + base.get("PATH", os.defpath)
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [here, os.path.join(release, "src")]
    environ["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [base.get("PYTHONPATH")] if p])
    environ["WSGI_RELEASE_DIR"] = release
    environ.pop("PYTHONHOME", None)
    return environ


def main(argv: list[str]) -> None:
    release = static_root = None
    run = False
    while argv and argv[0] in ("--release", "--static-root", "--exec"):
        if argv[0] == "--exec":
            run, argv = True, argv[1:]
            continue
        option, value, *argv = argv
        if option == "--release":
            release = value
        else:
            static_root = value
    if run:
        if not release or len(argv) < 2:
            sys.exit("usage: wsgi_site_env.py --release DIR --exec ENV_FILE COMMAND [ARGS...]")
        env_file, *command = argv
        environ = exec_environ(env_file, release, dict(os.environ))
        os.chdir(os.path.join(release, "src"))
        try:
            os.execvpe(command[0], command, environ)
        except OSError as exc:
            sys.exit(f"{command[0]}: {exc.strerror} (in the release {release})")
    env_file, manage_py, *args = argv
    load_env(env_file)
    if static_root:
        # Building a release: its static files are collected into the release, not the live one.
        os.environ["DJANGO_STATIC_ROOT"] = static_root
    if release:
        os.environ["WSGI_RELEASE_DIR"] = release
    os.chdir(os.path.dirname(manage_py))
    sys.path.insert(0, os.path.dirname(manage_py))
    sys.argv = [manage_py, *args]
    runpy.run_path(manage_py, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
