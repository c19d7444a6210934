#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Read-only preflight probe of a target: what the site list needs that only the host knows."""

from __future__ import annotations

DOCUMENTATION = r"""
module: site_facts
short_description: Check a host against its site list before anything changes (read-only)
version_added: 1.0.0
description:
  - One call per host that reads what only the target knows and the site model cannot check on
    the controller, and returns every problem as a message naming the site and the field.
  - App users that exist but were not created by the collection (system accounts, accounts of
    other software), a user name clashing with an existing group.
  - The interpreter of every site (a real CPython 3 of a version the stacks can run, with venv),
    and the Python mod_wsgi is built for (when Apache sites are present).
  - Symlinks or foreign owners in the site directories the collection would chown or delete.
  - Site names that are the host's own name (the /etc/hosts block would redirect them).
  - Git sources that the target cannot reach, or whose version does not exist.
  - It also returns the deployed-state records of the host's sites.
  - Never changes anything; runs the same in check mode.
options:
  sites:
    description:
      - The normalised records of the host's sites (wsgi.deploy.site_normalize).
      - Absent sites are checked for what their removal touches (the site directory; the user
        when C(purge_data) deletes it).
    type: list
    elements: dict
    required: true
  sites_root:
    description: The directory holding every site's tree.
    type: path
    required: true
  state_dir:
    description: The directory of the deployed-state records.
    type: path
    required: true
  web_user:
    description: The web server's user (embedded mod_wsgi sites run as it; never created).
    type: str
    default: www-data
  user_marker:
    description: The start of the comment (GECOS) of every app user the collection creates.
    type: str
    default: "WSGI site "
  mod_wsgi_path:
    description: The mod_wsgi module; its libpython tells the Python it can load.
    type: path
    default: /usr/lib/apache2/modules/mod_wsgi.so
  distro_python:
    description: The distribution's python3 (what Debian's mod_wsgi package is built for).
    type: path
    default: /usr/bin/python3
  min_python:
    description: The oldest Python version a site may use.
    type: str
    default: "3.9"
  git_timeout:
    description: Seconds to wait for each C(git ls-remote).
    type: int
    default: 30
  packages:
    description: Debian packages whose installation state to report (what the run may install).
    type: list
    elements: str
    default: []
  index_max_age:
    description:
      - When a site's C(packages) are not all installed, each must have an installation
        candidate in the host's package index, or the site is refused. An index older than this
        (seconds; the apt tasks' C(cache_valid_time)) is refreshed first (C(apt-get update), as
        the install would do; not a change of the host's configuration), waiting up to 120 s
        for another apt that holds the index's lock.
    type: int
    default: 3600
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Check the host against its sites
  wsgi.deploy.site_facts:
    sites: "{{ wsgi_site_list }}"
    sites_root: /srv/wsgi
    state_dir: /var/lib/wsgi-deploy/sites
  register: wsgi_host_facts
"""

RETURN = r"""
errors:
  description: Every problem found, each naming the site and the field (empty when all is fine).
  type: list
  elements: str
  returned: always
interpreters:
  description: Per interpreter path, what it is (version, implementation, venv), or an error.
  type: dict
  returned: always
pythons:
  description: Per usable interpreter path, its Python version (C(3.11)).
  type: dict
  returned: always
mod_wsgi_python:
  description: The Python version mod_wsgi loads (installed mod_wsgi, else the distro python3).
  type: str
  returned: when Apache sites are present
git:
  description: Per site with a git source, the commit its version resolves to (or null).
  type: dict
  returned: always
git_missing:
  description: Sites whose git source could not be checked because git is not on the target yet.
  type: list
  elements: str
  returned: always
records:
  description: Per site, its deployed-state record on the host (null when it has none).
  type: dict
  returned: always
serving:
  description:
    - Per web server of the stack registry, the sites it serves now, those it must keep serving
      through a change of its configuration; a site whose deployed-state record names one of the
      server's stacks and whose own configuration files (server block or VirtualHost, units of
      its application server) the roles wrote are still there. A site that left the site list
      lost them, so it is not checked before it is served again.
  type: dict
  returned: always
installed:
  description: Per web server of the stack registry, whether it is installed.
  type: dict
  returned: always
managed:
  description:
    - Per web or app server, the files the collection's role wrote (with its marker); under
      C(workers), the units of the sites' processes and timers the role wsgi_workers wrote in
      C(workers_unit_dir).
  type: dict
  returned: always
workers_unit_dir:
  description: The directory searched for the units of the sites' processes and timers.
  type: str
  returned: always
edited:
  description:
    - Per web server, the content of each file of its configuration its role edits in place
      (the registry's C(edited), e.g. C(nginx.conf)), or null when it is missing, not UTF-8
      or larger than 1 MiB (the role reads it itself then).
  type: dict
  returned: always
rsync:
  description: Whether rsync is on the host (code from the controller is synchronised with it).
  type: bool
  returned: always
apt_cache_age:
  description: Seconds since the package index was last refreshed.
  type: int
  returned: always
host:
  description:
    - Usable CPUs (C(cpus)), default-route IPv4 address (C(ipv4)), IPv6 or not (C(ipv6)), the
      Debian major version (C(debian), e.g. C(12)).
  type: dict
  returned: always
tls:
  description:
    - Per present site with TLS, what the certificate it serves says (C(names), C(not_after),
      C(days_left), C(issuer), C(serial), C(ocsp), C(acme) when certbot renews it), or null when
      it has none yet.
  type: dict
  returned: always
packages:
  description: Per package asked about, whether it is installed.
  type: dict
  returned: always
packages_unknown:
  description:
    - The sites' packages that are not installed and that apt cannot install (no candidate in the
      package index, because it is unknown or a virtual package). Empty when the index could not
      be read.
  type: list
  elements: str
  returned: always
"""

import grp  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.certinfo import sites_certs  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.site_services import (  # noqa: E402
    UNIT_DIR,
    UNIT_MARKER,
    UNIT_PATTERNS,
)
from ansible_collections.wsgi.deploy.plugins.module_utils.stacks import (  # noqa: E402
    APP_SERVERS,
    STACKS,
    WEB_SERVERS,
    with_app_server,
)

PROBE = (
    "import json, platform, sys, importlib.util as u; "
    "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], "
    "'implementation': platform.python_implementation(), "
    "'venv': u.find_spec('venv') is not None, 'ensurepip': u.find_spec('ensurepip') is not None}))"
)
SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def probe_interpreter(path: str, min_python: str) -> dict[str, Any]:
    """What `path` is, as {'version', 'implementation', 'venv', ...} or {'error': ...}."""
    if not os.path.isabs(path):
        return {"error": f"{path} is not an absolute path"}
    if not os.path.exists(path):
        return {"error": f"interpreter {path} was not found"}
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        return {"error": f"{path} is not an executable"}
    try:
        proc = subprocess.run(
            [path, "-I", "-c", PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{path} could not be run as Python: {exc}"}
    info: dict[str, Any] | None = None
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            info = json.loads(line)
            break
        except ValueError:
            continue
    if proc.returncode != 0 or not isinstance(info, dict):
        said = " ".join((proc.stderr or proc.stdout).split())[:160]
        return {"error": f"{path} is not a Python 3 interpreter (it said: {said or 'nothing'})"}
    if info.get("implementation") != "CPython":
        info["error"] = f"{path} is {info.get('implementation')}, not CPython"
    elif _version_tuple(str(info.get("version"))) < _version_tuple(min_python):
        info["error"] = f"{path} is Python {info.get('version')}, older than {min_python}"
    elif not info.get("venv"):
        info["error"] = f"{path} (Python {info.get('version')}) has no venv module"
    return info


def mod_wsgi_python(mod_wsgi_path: str, distro: dict[str, Any]) -> str | None:
    """The Python version of the installed mod_wsgi (from its libpython), else the distro's."""
    if os.path.exists(mod_wsgi_path) and shutil.which("ldd"):
        proc = subprocess.run(
            ["ldd", mod_wsgi_path], capture_output=True, text=True, timeout=30, check=False
        )
        match = re.search(r"libpython(\d+\.\d+)", proc.stdout)
        if match:
            return match.group(1)
    version = distro.get("version")
    return str(version) if version else None


def check_user(site: dict[str, Any], web_user: str, marker: str, sites_root: str) -> str | None:
    """Why the app user of `site` cannot be the collection's own, or None."""
    user = site["user"]
    if site.get("run_user") == web_user and user != web_user:
        return None  # embedded mod_wsgi: the app runs as the web server, no user is created
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        try:
            grp.getgrnam(user)
        except KeyError:
            return None
        return (
            f"{user!r} does not exist but a group of that name does: useradd would fail "
            "(remove the group or choose another user)"
        )
    if entry.pw_uid == 0:
        return f"{user!r} is a superuser account (uid 0)"
    if not entry.pw_gecos.startswith(marker):
        return (
            f"{user!r} already exists on the host and was not created by this collection "
            f"(uid {entry.pw_uid}, comment {entry.pw_gecos!r}): it would be rewritten. Choose "
            "another name, or leave 'user' unset"
        )
    home = os.path.normpath(entry.pw_dir)
    if not home.startswith(sites_root.rstrip("/") + "/"):
        return f"{user!r} exists with home {entry.pw_dir}, outside {sites_root}"
    return None


def path_problem(path: str, base: str, owner_ok: set[int]) -> str | None:
    """Why the collection must not create, chown or delete `path` (which lies under `base`).

    Every existing component from `base` down to `path` must be a real directory (no symlink,
    which could point anywhere) owned by root; the last one may also belong to the app user.
    """
    rel = os.path.relpath(path, base)
    if rel.startswith(".."):
        return f"{path} is outside {base}"
    current = base
    parts = [] if rel == "." else rel.split(os.sep)
    for index, part in enumerate([None, *parts]):
        if part is not None:
            current = os.path.join(current, part)
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"{current} cannot be read: {exc}"
        last = index == len(parts)
        if stat.S_ISLNK(info.st_mode):
            return f"{current} is a symlink (to {os.readlink(current)}): refusing to follow it"
        if not stat.S_ISDIR(info.st_mode):
            return f"{current} exists and is not a directory"
        allowed = owner_ok if last else {0}
        if info.st_uid not in allowed:
            return f"{current} is owned by uid {info.st_uid}, not by root or the site"
        if not last and info.st_mode & 0o022:
            return f"{current} is writable by others than root (mode {oct(info.st_mode & 0o777)})"
    return None


def check_paths(site: dict[str, Any], sites_root: str) -> list[tuple[str, str]]:
    """(field, problem) for the site's directories that the collection creates or chowns."""
    try:
        uid = pwd.getpwnam(site["run_user"]).pw_uid
    except KeyError:
        uid = 0
    problems: list[tuple[str, str]] = []
    root_problem = path_problem(site["root"], sites_root, {0})
    if root_problem:
        return [("name", f"the site directory is unsafe: {root_problem}")]
    targets = [("name", site["data_dir"], {0, uid})]
    if site.get("media"):
        targets.append(("media.dir", site["media"]["dir"], {0, uid}))
    static = site.get("static") or {}
    if static and static.get("release") is None:
        targets.append(("static.dir", static["dir"], {0}))
    for field, path, owners in targets:
        problem = path_problem(path, site["root"], owners)
        if problem:
            problems.append((field, problem))
    return problems


def git_check(repo: str, version: str, timeout: int) -> tuple[str | None, str | None]:
    """(commit or None, problem or None) of `git ls-remote` for the repo and version."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_SSH_COMMAND="ssh -o BatchMode=yes")
    try:
        proc = subprocess.run(
            ["git", "ls-remote", "--", repo],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"{repo} did not answer within {timeout} s (git ls-remote)"
    if proc.returncode != 0:
        said = " ".join(proc.stderr.split())[:200]
        return None, f"{repo} cannot be reached from the host: {said}"
    refs: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        sha, _tab, ref = line.partition("\t")
        refs[ref] = sha
    for candidate in (version, f"refs/tags/{version}^{{}}", f"refs/tags/{version}",
                      f"refs/heads/{version}"):  # fmt: skip
        if candidate in refs:
            return refs[candidate], None
    if SHA_RE.match(version):
        return version, None  # a commit: checked out by the deploy
    return None, f"version {version!r} is not a branch or tag of {repo}"


def managed_files(dirs: list[str], patterns: list[str], marker: str) -> list[str]:
    """The files in `dirs` matching `patterns` that carry `marker` (what a role wrote)."""
    import fnmatch

    found: list[str] = []
    for top in dirs:
        try:
            names = sorted(os.listdir(top))
        except OSError:
            continue
        for name in names:
            path = os.path.join(top, name)
            if not any(fnmatch.fnmatch(name, pat) for pat in patterns) or not os.path.isfile(path):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    if marker in handle.read(65536):
                        found.append(path)
            except OSError:
                continue
    return found


def apt_cache_age() -> int:
    """Seconds since the package index was refreshed (as the apt module's cache_valid_time)."""
    import time

    for path in ("/var/lib/apt/periodic/update-success-stamp", "/var/lib/apt/lists"):
        try:
            return int(time.time() - os.stat(path).st_mtime)
        except OSError:
            continue
    return 1 << 30


def host_info() -> dict[str, Any]:
    """What the defaults need from the host (instead of gathering facts): its usable CPUs, its
    default-route IPv4 address, whether it has IPv6 beyond loopback."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    ipv4 = "127.0.0.1"
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is looked up
        ipv4 = probe.getsockname()[0]
    except OSError:
        pass
    finally:
        probe.close()
    ipv6 = False
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as handle:
            ipv6 = any(line.split()[-1] != "lo" for line in handle if line.strip())
    except OSError:
        pass
    debian = ""
    try:
        with open("/etc/debian_version", encoding="ascii") as handle:
            debian = handle.read().strip().split(".")[0]
    except OSError:
        pass
    return {"cpus": cpus, "ipv4": ipv4, "ipv6": ipv6, "debian": debian}


def packages_installed(names: list[str]) -> dict[str, bool]:
    """Whether each Debian package is installed (dpkg's status), in one query."""
    if not names or not shutil.which("dpkg-query"):
        return {name: False for name in names}
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\\n", *names],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    state = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    return {name: state.get(name, "").startswith("ii") for name in names}


def parse_candidates(policy: str) -> dict[str, str | None]:
    """`apt-cache policy NAME...` -> per package apt knows, its candidate version (None for a
    virtual package or one with no version for this host); unknown names are not listed."""
    found: dict[str, str | None] = {}
    name = ""
    for line in policy.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            name = line[:-1]
            found[name] = None
        elif name and line.strip().startswith("Candidate:"):
            value = line.split(":", 1)[1].strip()
            found[name] = None if value in ("", "(none)") else value
    return found


# Seconds an index refresh waits for another apt's lock (the apt module's lock_timeout is 60).
APT_LOCK_TIMEOUT = 120


def refresh_index(max_age: int, lock_timeout: float = APT_LOCK_TIMEOUT) -> bool:
    """The package index is at most max_age old, refreshed (`apt-get update`) when it was
    older. Another apt holding the index's lock (apt-daily's refresh, another run on this host)
    is waited for, bounded; apt-get itself does not wait for that lock. False when the index
    could not be refreshed."""
    import time

    deadline = time.monotonic() + lock_timeout
    while apt_cache_age() > max_age:
        update = subprocess.run(
            ["apt-get", "update", "-qq"], capture_output=True, text=True, check=False,
            timeout=600, env={**os.environ, "LC_ALL": "C"},
        )  # fmt: skip
        if update.returncode == 0:
            return True
        if "Could not get lock" not in update.stderr or time.monotonic() > deadline:
            return False
        time.sleep(1)  # then the other apt may have refreshed it (the age is read again)
    return True


def uninstallable_packages(names: list[str], max_age: int) -> list[str]:
    """Of packages that are not installed, those apt has no candidate for, after refreshing an
    index older than max_age; none when the index cannot tell (apt's install then says why)."""
    if not names or not shutil.which("apt-cache"):
        return []
    if not refresh_index(max_age):
        return []
    proc = subprocess.run(
        ["apt-cache", "policy", "--", *names], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return []
    candidates = parse_candidates(proc.stdout)
    return sorted(n for n in names if candidates.get(n) is None)


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    """The content of a UTF-8 text file up to `limit` bytes, or None (missing, bigger, binary)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def servers_state() -> dict[str, Any]:
    """Which web servers are installed, the files the collection's roles wrote for each web and
    application server of the stack registry and for the sites' processes and timers, and the
    content of the files the web servers' roles edit in place."""
    installed = {name: os.path.exists(web["binary"]) for name, web in WEB_SERVERS.items()}
    managed = {
        name: managed_files([web["sites_dir"], *web["extra_dirs"]], ["*.conf"], web["marker"])
        for name, web in WEB_SERVERS.items()
    }
    for name, app in APP_SERVERS.items():
        managed[name] = managed_files([app["unit_dir"]], app["patterns"], app["marker"])
    managed["workers"] = managed_files([UNIT_DIR], UNIT_PATTERNS, UNIT_MARKER)
    edited = {
        name: {f: read_text(os.path.join(web["conf_dir"], f)) for f in web["edited"]}
        for name, web in WEB_SERVERS.items()
    }
    return {
        "installed": installed,
        "managed": managed,
        "workers_unit_dir": UNIT_DIR,
        "edited": edited,
    }


def serving(records: dict[str, Any], managed: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per web server, the sites it serves now: a record naming one of its stacks, and every
    file of the site's own configuration on that stack (its server block or VirtualHost, its
    application server's units) written by the roles and still there (found by their marker)."""
    present = {path for paths in managed.values() for path in paths}
    out: dict[str, list[str]] = {name: [] for name in WEB_SERVERS}
    for site, record in records.items():
        stack = STACKS.get(str(record.get("stack"))) if isinstance(record, dict) else None
        if stack is None:
            continue
        own = [
            path.format(name=site)
            for paths in stack["server_files"].values()
            for path in paths
            if "{name}" in path
        ]
        if own and all(path in present for path in own):
            out[stack["web_server"]].append(site)
    return out


def read_records(state_dir: str, names: list[str]) -> dict[str, Any]:
    records: dict[str, Any] = {}
    for name in names:
        path = os.path.join(state_dir, f"{name}.json")
        try:
            with open(path, encoding="utf-8") as handle:
                records[name] = json.load(handle)
        except (OSError, ValueError):
            records[name] = None
    return records


def run(params: dict[str, Any]) -> dict[str, Any]:
    every: list[dict[str, Any]] = params["sites"]
    sites = [s for s in every if s.get("state", "present") == "present"]
    purged = [s for s in every if s.get("state") == "absent" and s.get("purge_data")]
    sites_root = os.path.normpath(params["sites_root"])
    errors: list[str] = []

    def err(site: dict[str, Any], field: str, msg: str) -> None:
        errors.append(f"site '{site['name']}': field '{field}': {msg}")

    interpreters: dict[str, dict[str, Any]] = {}
    for path in sorted({s["python"] for s in sites} | {params["distro_python"]}):
        interpreters[path] = probe_interpreter(path, params["min_python"])
    for site in sites:
        info = interpreters[site["python"]]
        if info.get("error"):
            err(site, "python", f"{info['error']} (on this host). Nothing was changed.")
    result: dict[str, Any] = {
        "interpreters": interpreters,
        "pythons": {k: v["version"] for k, v in interpreters.items() if not v.get("error")},
    }
    apache = [s for s in sites if s["stack"] in with_app_server("mod_wsgi")]
    if apache:
        version = mod_wsgi_python(params["mod_wsgi_path"], interpreters[params["distro_python"]])
        result["mod_wsgi_python"] = version
        for site in apache:
            info = interpreters[site["python"]]
            if not info.get("error") and version and info.get("version") != version:
                err(
                    site,
                    "python",
                    f"{site['python']} is Python {info.get('version')}, but mod_wsgi on this "
                    f"host is built for Python {version} and can only load a virtualenv of that "
                    f"version. Use the distro's interpreter ({params['distro_python']}) or the "
                    "nginx_gunicorn stack. Nothing was changed.",
                )
    for site in sites + purged:
        problem = check_user(site, params["web_user"], params["user_marker"], sites_root)
        if problem:
            err(site, "user", problem)
    for site in sites:
        for field, problem in check_paths(site, sites_root):
            err(site, field, problem)
    for site in every:
        if site.get("state") == "absent":
            problem = path_problem(site["root"], sites_root, {0})
            if problem:
                err(site, "name", f"the site directory is unsafe to remove: {problem}")
    own = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for site in sites:
        clash = sorted(own & set(site["names"]))
        if clash and site.get("manage_hosts", True):
            err(
                site,
                "domain",
                f"{clash[0]!r} is this host's own name (/etc/hosts would redirect it)",
            )
    git: dict[str, str | None] = {}
    git_missing: list[str] = []
    have_git = shutil.which("git") is not None
    for site in sites:
        source = site.get("source") or {}
        if source.get("type") != "git":
            continue
        if not have_git:
            git_missing.append(site["name"])
            continue
        commit, problem = git_check(source["repo"], source["version"], params["git_timeout"])
        git[site["name"]] = commit
        if problem:
            err(site, "source.git", f"{problem}. Nothing was changed.")
    installed = packages_installed(sorted(set(params["packages"])))
    missing = sorted(
        {p for s in sites for p in s.get("packages") or []}
        - {p for p, ok in installed.items() if ok}
    )
    unknown = uninstallable_packages(missing, params["index_max_age"])
    for site in sites:
        for package in site.get("packages") or []:
            if package in unknown:
                err(
                    site,
                    "packages",
                    f"{package!r} cannot be installed on this host: apt knows no such package "
                    "for its Debian release, or it is a virtual package (name one that provides "
                    "it). Nothing was changed.",
                )
    records = read_records(params["state_dir"], [s["name"] for s in every])
    servers = servers_state()
    result.update(
        errors=errors,
        packages_unknown=unknown,
        git=git,
        git_missing=git_missing,
        records=records,
        serving=serving(records, servers["managed"]),
        rsync=shutil.which("rsync") is not None,
        apt_cache_age=apt_cache_age(),
        host=host_info(),
        tls=sites_certs(sites),
        packages=installed,
        **servers,
    )
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "sites": {"type": "list", "elements": "dict", "required": True},
            "sites_root": {"type": "path", "required": True},
            "state_dir": {"type": "path", "required": True},
            "web_user": {"type": "str", "default": "www-data"},
            "user_marker": {"type": "str", "default": "WSGI site "},
            "mod_wsgi_path": {"type": "path", "default": "/usr/lib/apache2/modules/mod_wsgi.so"},
            "distro_python": {"type": "path", "default": "/usr/bin/python3"},
            "min_python": {"type": "str", "default": "3.9"},
            "git_timeout": {"type": "int", "default": 30},
            "packages": {"type": "list", "elements": "str", "default": []},
            "index_max_age": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **run(module.params))


if __name__ == "__main__":
    main()
