"""A WSGI app for the workers scenario: GET / answers "pulse VERSION". Its worker (pulse_worker.py)
and its scheduled job (pulse_job.py) write heartbeats with the same VERSION; the tests change it
between deploys."""

import json
import os
import pwd
import sys
import time

VERSION = "v1"


def application(environ, start_response):
    body = f"pulse {VERSION}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _read_only(directory):
    """The file system at `directory` is mounted read-only for this process (systemd's sandbox)."""
    return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)


def heartbeat(name, count):
    """Write <PULSE_DIR>/<name>.json (atomically): who runs, in which release, with which code."""
    data = {
        "n": count,
        "time": time.time(),
        "version": VERSION,
        "pid": os.getpid(),
        "user": pwd.getpwuid(os.getuid()).pw_name,
        # The working directory is the release's src (through the `current` link): its real path
        # names the release the process runs in.
        "release": os.path.basename(os.path.dirname(os.path.realpath(os.getcwd()))),
        "args": sys.argv[1:],
        "etc_read_only": _read_only("/etc"),
        "srv_read_only": _read_only("/srv"),
        "data_read_only": _read_only(os.environ["PULSE_DIR"]),
    }
    directory = os.environ["PULSE_DIR"]
    tmp = os.path.join(directory, f".{name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, os.path.join(directory, f"{name}.json"))
