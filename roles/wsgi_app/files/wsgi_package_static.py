"""Copy a directory of an installed package into a release (a site's `static: {package, subdir}`).

Installed by Ansible (role wsgi_app) next to the site's WSGI entry file when a site names its
static files by package; run by the deploy as root with the new release's own interpreter, in
isolated mode, once its virtualenv is built:

  <release>/venv/bin/python -I wsgi_package_static.py PACKAGE SUBDIR DEST

The package is found without importing it (importlib.util.find_spec of a top-level name runs none
of its code), so the path does not depend on the Python version (lib/python3.X/site-packages).
The directory must be inside the virtualenv once symlinks are resolved; symbolic links inside it
are not copied (nothing outside the package is ever served). Prints one JSON line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys


def package_dir(package: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise SystemExit(f"package {package!r} is not installed in the site's virtualenv")
    locations = list(spec.submodule_search_locations or [])
    if not locations:
        raise SystemExit(f"{package!r} is a module, not a package with directories")
    return locations[0]


def main(package: str, subdir: str, dest: str) -> None:
    base = os.path.realpath(package_dir(package))
    source = os.path.realpath(os.path.join(base, subdir))
    venv = os.path.realpath(sys.prefix)
    if not (source + os.sep).startswith(base + os.sep) or not base.startswith(venv + os.sep):
        raise SystemExit(f"{package}/{subdir} leaves the package or the site's virtualenv")
    if not os.path.isdir(source):
        raise SystemExit(f"{package!r} has no directory {subdir!r} ({source})")

    def links_and_bytecode(directory: str, names: list[str]) -> list[str]:
        return [
            n
            for n in names
            if os.path.islink(os.path.join(directory, n))
            or n == "__pycache__"
            or n.endswith(".pyc")
        ]

    if os.path.lexists(dest):
        shutil.rmtree(dest)
    shutil.copytree(source, dest, symlinks=False, ignore=links_and_bytecode)
    count = sum(len(files) for _d, _s, files in os.walk(dest))
    print(json.dumps({"source": source, "dest": dest, "files": count}))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: wsgi_package_static.py PACKAGE SUBDIR DEST")
    main(*sys.argv[1:])
