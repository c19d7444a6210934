"""Load a site's environment file (KEY="value" lines, systemd EnvironmentFile syntax).

Installed by Ansible (role wsgi_app) next to each site's WSGI entry file. Imported by the entry
file (mod_wsgi's SetEnv does not reach os.environ) and run as a script by the site's `manage`
wrapper:  python wsgi_site_env.py ENV_FILE MANAGE_PY [ARGS...]
"""

from __future__ import annotations

import os
import runpy
import sys


def _unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    out: list[str] = []
    chars = iter(value[1:-1])
    for ch in chars:
        out.append(next(chars, "\\") if ch == "\\" else ch)
    return "".join(out)


def load_env(path: str) -> None:
    """Put every KEY=value of the file into os.environ (later lines win)."""
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            os.environ[key.strip()] = _unquote(value.strip())


def main(argv: list[str]) -> None:
    env_file, manage_py, *args = argv
    load_env(env_file)
    os.chdir(os.path.dirname(manage_py))
    sys.path.insert(0, os.path.dirname(manage_py))
    sys.argv = [manage_py, *args]
    runpy.run_path(manage_py, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
