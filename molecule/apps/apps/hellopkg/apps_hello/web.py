"""The WSGI app: a greeting from its config file and a visit counter in its data environment."""

from __future__ import annotations

import configparser
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable
from typing import Any


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    path = os.environ["HELLO_CONFIG"]
    if not parser.read(path):
        raise RuntimeError(f"cannot read the config file {path}")
    return parser


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    config = _config()
    data = config["hello"]["data_dir"]
    # No data environment: the app cannot serve (its setup command did not run).
    with sqlite3.connect(f"file:{data}/hello.db?mode=rw", uri=True) as db:
        db.execute("UPDATE visits SET n = n + 1")
        visits = db.execute("SELECT n FROM visits").fetchone()[0]
    body = json.dumps(
        {
            "app": "apps_hello",
            "greeting": config["hello"]["greeting"],
            "token_sha_len": len(config["hello"]["token"]),
            "visits": visits,
            "uid": os.getuid(),
            "python": "{}.{}".format(*sys.version_info[:2]),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
