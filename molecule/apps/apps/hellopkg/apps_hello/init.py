"""`apps-hello-init DATA_DIR`: create the app's data environment (run once, before it serves)."""

from __future__ import annotations

import os
import sqlite3
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: apps-hello-init DATA_DIR", file=sys.stderr)
        return 2
    path = os.path.join(sys.argv[1], "hello.db")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE visits (n INTEGER NOT NULL)")
        db.execute("INSERT INTO visits VALUES (0)")
    print(f"created {path} as uid {os.getuid()} in {os.getcwd()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
