#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Build the new virtualenvs of a host's sites in one call, side by side."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_venvs
short_description: Build the new virtualenvs of a host's sites, side by side, in one call
description:
  - For each virtualenv given, C(python -m venv) (unless it has an interpreter already), pip
    upgraded in it when asked, then C(pip install) of the site's requirements file, of its
    C(requirements), of the stack's packages, in that order and each its own install (a later
    one wins over a pin of an earlier one, so the pinned Gunicorn of the stack wins), then
    the marker file that makes it complete (a release only uses a complete virtualenv).
    Root-owned, as root runs it.
  - The virtualenvs are built side by side (I(parallel) at once), so a host's fresh deploy
    costs about its largest virtualenv rather than the sum of them, and one call for all.
  - A virtualenv already complete for its key (its marker holds it) is left as it is. In check
    mode nothing is built; the module reports what would be.
  - A failing build fails the module naming the site and the last lines pip wrote (credentials
    in index URLs masked); the other virtualenvs are still built, and a failed one has no marker,
    so the next run builds it again.
version_added: "1.0.0"
options:
  venvs:
    description: The virtualenvs to build.
    type: list
    elements: dict
    required: true
    suboptions:
      site:
        description: The site's name (for the messages).
        type: str
        required: true
      python:
        description: The interpreter the virtualenv is made from.
        type: path
        required: true
      dir:
        description: The virtualenv's directory.
        type: path
        required: true
      venv_key:
        description: The virtualenv's key (what it is built from), written to its marker file.
        type: str
        required: true
      requirements_file:
        description: A requirements file to install (absolute), or empty.
        type: str
        default: ""
      chdir:
        description: The directory pip runs in (relative paths of the requirements file).
        type: str
        default: ""
      requirements:
        description: The site's C(requirements) (requirement specifiers).
        type: list
        elements: str
        default: []
      stack_packages:
        description: What the site's stack adds (e.g. Gunicorn, pinned).
        type: list
        elements: str
        default: []
      index_url:
        description:
          - The package index, or empty for pip's default (never logged, it may hold credentials).
        type: str
        default: ""
  extra_args:
    description: Extra arguments of every pip install (split like a shell would, not run by one).
    type: str
    default: ""
  upgrade_pip:
    description: Upgrade pip inside each new virtualenv first.
    type: bool
    default: false
  parallel:
    description: Virtualenvs built at once (0, the default, the host's CPUs, at most 4).
    type: int
    default: 0
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Build the new virtualenvs
  wsgi.deploy.site_venvs:
    venvs:
      - site: hello
        python: /usr/bin/python3
        dir: /srv/wsgi/hello/venvs/3f2a
        venv_key: 3f2a
        stack_packages: [gunicorn==23.0.0]
"""

RETURN = r"""
built:
  description: The sites whose virtualenv this call built (or would build, in check mode).
  type: list
  elements: str
  returned: always
failed_sites:
  description: The sites whose virtualenv could not be built.
  type: list
  elements: str
  returned: always
"""

import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import procs  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.releases import (  # noqa: E402
    mark_venv_complete,
    venv_complete,
)

TAIL_LINES = 15
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def mask(text: str) -> str:
    """`https://user:token@host/` -> `https://***@host/` (index URLs in pip's messages)."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def is_complete(venv: dict[str, Any]) -> bool:
    return venv_complete(venv["dir"], venv["venv_key"])


def steps(venv: dict[str, Any], extra_args: str, upgrade_pip: bool) -> list[list[str]]:
    """The commands that build one virtualenv, in order."""
    python = os.path.join(venv["dir"], "bin", "python")
    install = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    if venv.get("index_url"):
        install += ["--index-url", venv["index_url"]]
    install += shlex.split(extra_args)
    out: list[list[str]] = []
    if not os.path.exists(python):
        out.append([venv["python"], "-m", "venv", venv["dir"]])
    if upgrade_pip:
        out.append([*install, "--upgrade", "pip"])
    if venv.get("requirements_file"):
        out.append([*install, "-r", venv["requirements_file"]])
    for field in ("requirements", "stack_packages"):
        if venv.get(field):
            out.append([*install, *venv[field]])
    return out


def build(venv: dict[str, Any], extra_args: str, upgrade_pip: bool) -> str | None:
    """Build one virtualenv; None on success, else what went wrong."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for argv in steps(venv, extra_args, upgrade_pip):
        code, output = procs.run(argv, env, cwd=venv.get("chdir") or "/")
        if code != 0:
            what = "python -m venv" if argv[1:3] == ["-m", "venv"] else "pip install"
            return mask(f"{what} exited with {code}: " + procs.tail(output, TAIL_LINES))
    mark_venv_complete(venv["dir"], venv["venv_key"])
    return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "venvs": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "site": {"type": "str", "required": True},
                    "python": {"type": "path", "required": True},
                    "dir": {"type": "path", "required": True},
                    "venv_key": {"type": "str", "required": True, "no_log": False},
                    "requirements_file": {"type": "str", "default": ""},
                    "chdir": {"type": "str", "default": ""},
                    "requirements": {"type": "list", "elements": "str", "default": []},
                    "stack_packages": {"type": "list", "elements": "str", "default": []},
                    "index_url": {"type": "str", "default": "", "no_log": True},
                },
            },
            "extra_args": {"type": "str", "default": ""},
            "upgrade_pip": {"type": "bool", "default": False},
            "parallel": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    p = module.params
    todo = [v for v in p["venvs"] if not is_complete(v)]
    if module.check_mode or not todo:
        module.exit_json(changed=bool(todo), built=[v["site"] for v in todo], failed_sites=[])
    with ThreadPoolExecutor(max_workers=procs.workers(p["parallel"], len(todo))) as pool:
        problems = list(pool.map(lambda v: build(v, p["extra_args"], p["upgrade_pip"]), todo))
    results = dict(zip([v["site"] for v in todo], problems, strict=True))
    built = [site for site, problem in results.items() if problem is None]
    failed = {site: problem for site, problem in results.items() if problem}
    if failed:
        module.fail_json(
            msg="; ".join(
                f"site '{site}': its virtualenv was not built: {why}"
                for site, why in failed.items()
            )
            + ". The sites keep serving their current release; the next run builds it again.",
            changed=bool(built),
            built=built,
            failed_sites=list(failed),
        )
    module.exit_json(changed=True, built=built, failed_sites=[])


if __name__ == "__main__":
    main()
