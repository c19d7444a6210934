"""Ask a release of a site for its health-check page before it serves (before the switch).

Installed by Ansible (role wsgi_app) next to each site's WSGI entry file, run by the deploy as the
site's user with the release's own virtualenv:

  <release>/venv/bin/python wsgi_probe.py ENV_FILE RELEASE_DIR ENTRY HOST PATH MOUNT

It loads the site's environment file, imports the release's WSGI application the way the WSGI
entry does (ENTRY: 'script:<file>' or 'callable:<module>:<name>') and calls it once with a GET of
PATH for HOST (SCRIPT_NAME is MOUNT, the site's path), in this process, without a web server: a
release whose code does not import, or whose page answers 5xx, is refused before any visitor
reaches it. Prints one JSON line: {"status": 200, "body": "..."} or {"error": "<traceback>"}.
"""

from __future__ import annotations

import io
import json
import os
import runpy
import sys
import traceback
from importlib import import_module
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsgi_site_env import load_env  # noqa: E402


def load_application(release: str, entry: str) -> Any:
    src = os.path.join(release, "src")
    sys.path.insert(0, src)
    kind, _sep, target = entry.partition(":")
    if kind == "script":
        return runpy.run_path(os.path.join(src, target))["application"]
    module, _sep, name = target.partition(":")
    return getattr(import_module(module), name or "application")


def call(application: Any, host: str, path: str, mount: str = "/") -> dict[str, Any]:
    route, _sep, query = path.partition("?")
    script_name = "" if mount in ("", "/") else mount.rstrip("/")
    if script_name and (route == script_name or route.startswith(script_name + "/")):
        route = route[len(script_name) :]
    status: list[str] = []

    def start_response(line: str, headers: list[Any], exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": True,
    }
    body = b""
    chunks = application(environ, start_response)
    try:
        for chunk in chunks:
            if len(body) < 4096:
                body += chunk
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    code = int(status[0].split()[0]) if status else 0
    return {"status": code, "body": body[:4096].decode("utf-8", "replace")}


def main(argv: list[str]) -> int:
    env_file, release, entry, host, path, mount = argv
    stage = "import"
    try:
        load_env(env_file)
        os.chdir(os.path.join(release, "src"))
        application = load_application(release, entry)
        stage = "request"
        result = call(application, host, path, mount)
    except BaseException as exc:  # noqa: BLE001 - any failure of the app is the answer
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        result = {"error": "".join(lines[-6:]).strip()[-2000:], "stage": stage}
        if stage == "import":
            # The entry (from the code or an installed package) does not import: say which.
            result["summary"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
