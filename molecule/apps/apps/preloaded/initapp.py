"""An app that initialises its database when it is imported (as some self-hosted apps do): with
several Gunicorn workers each importing it, they race; with `gunicorn.preload` the master imports
it once before forking. Each import appends its process id to data/imports.log."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

DATA = os.environ["WSGI_TEST_DATA"]

with open(os.path.join(DATA, "imports.log"), "a", encoding="ascii") as log:
    log.write(f"{os.getpid()}\n")
with sqlite3.connect(os.path.join(DATA, "init.db")) as db:
    db.execute("CREATE TABLE IF NOT EXISTS boot (pid INTEGER)")
    db.execute("INSERT INTO boot VALUES (?)", (os.getpid(),))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"initialised, served by {os.getpid()}\n".encode()]
