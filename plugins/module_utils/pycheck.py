"""Whether a site's requirements can be installed for a target's Python, asked before any change.

pip's resolver is asked on the controller, for the target interpreter's version (`pip install
--dry-run --python-version X.Y --only-binary=:all:`: no code of any package runs, nothing is
installed). Only a failure that pip explains by Requires-Python refuses the site; any other failure
(an sdist-only package, no index reachable from the controller) is reported as a warning and left to
the install on the target. Results are cached per (Python version, requirements, index).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from typing import Any

# pip: "Ignored the following versions that require a different python version: 6.1 Requires-Python
# >=3.12; 6.1.1 Requires-Python >=3.12"
IGNORED_RE = re.compile(r"require a different python version: (?P<items>.+)")
ITEM_RE = re.compile(r"(?P<version>\S+) Requires-Python (?P<spec>[^;]+)")
# pip: "Could not find a version that satisfies the requirement django>=6.1 (from versions: ...)"
UNSATISFIED_RE = re.compile(r"satisfies the requirement (?P<req>[^\s(]+(?: @ \S+)?)")
DEBIAN_PYTHONS = {"11": "3.9", "12": "3.11", "13": "3.13"}


def pip_command(python: str, version: str, reqs: list[str], req_file: str | None) -> list[str]:
    argv = [
        python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
        "--disable-pip-version-check", "--no-input", "--python-version", version,
        "--implementation", "cp", "--only-binary=:all:", "--timeout", "10", "--retries", "1",
        "--target", "",
    ]  # fmt: skip
    argv += list(reqs)
    if req_file:
        argv += ["-r", req_file]
    return argv


def explain(stderr: str) -> dict[str, Any] | None:
    """What pip says about Requires-Python, or None when the failure is about something else."""
    ignored = IGNORED_RE.search(stderr)
    unsatisfied = UNSATISFIED_RE.search(stderr)
    if not ignored or not unsatisfied:
        return None
    specs = sorted({m.group("spec").strip() for m in ITEM_RE.finditer(ignored.group("items"))})
    versions = [m.group("version") for m in ITEM_RE.finditer(ignored.group("items"))]
    return {"requirement": unsatisfied.group("req"), "needs": specs, "versions": versions}


def _vtuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3])


def _span(versions: list[str]) -> str:
    """'6.0 to 6.1.3' (final releases, in version order) of the versions pip ignored."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - ansible-core depends on packaging
        return ", ".join(versions[-3:])
    parsed = []
    for v in versions:
        try:
            parsed.append(Version(v))
        except InvalidVersion:
            continue
    final = sorted(v for v in parsed if not v.is_prerelease) or sorted(parsed)
    if not final:
        return "its releases"
    return str(final[0]) if len(final) == 1 else f"{final[0]} to {final[-1]}"


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    return match.group(0) if match else requirement


def message(site: str, host: str, version: str, debian: str, found: dict[str, Any]) -> str:
    needs = " or ".join(f"Python {spec}" for spec in found["needs"]) or "another Python"
    where = f" (Debian {debian})" if debian else ""
    newer = [
        f"Debian {d} has {v}"
        for d, v in sorted(DEBIAN_PYTHONS.items())
        if _vtuple(v) > _vtuple(version)
    ]
    hint = f"use a host with a newer Python ({', '.join(newer)})" if newer else "use a newer Python"
    return (
        f"site '{site}': {found['requirement']} needs {needs} (the Requires-Python of "
        f"{_name(found['requirement'])} {_span(found['versions'])}); host {host} has Python "
        f"{version}{where}: {hint}, or pin {_name(found['requirement'])} to a release that "
        f"supports Python {version}. Nothing was changed."
    )


def cache_key(version: str, reqs: list[str], req_text: str, index: str | None) -> str:
    blob = json.dumps([version, reqs, req_text, index or ""], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def check(
    python: str,
    version: str,
    reqs: list[str],
    req_file: str | None,
    index: str | None,
    cwd: str | None,
    cache_dir: str | None,
    timeout: int = 300,
) -> dict[str, Any]:
    """{'ok': bool, 'requires_python': {...} | None, 'warning': str | None} for one site."""
    req_text = ""
    if req_file:
        with open(req_file, encoding="utf-8") as handle:
            req_text = handle.read()
    key = cache_key(version, reqs, req_text, index)
    cached = os.path.join(cache_dir, key + ".json") if cache_dir else None
    if cached and os.path.isfile(cached):
        with open(cached, encoding="utf-8") as handle:
            return dict(json.load(handle))
    with tempfile.TemporaryDirectory(prefix="wsgi-pycheck-") as target:
        argv = pip_command(python, version, reqs, req_file)
        argv[argv.index("--target") + 1] = target
        if index:
            argv += ["--index-url", index]
        try:
            proc = subprocess.run(
                argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"ok": True, "requires_python": None, "warning": f"pip did not run: {exc}"}
    if proc.returncode == 0:
        result: dict[str, Any] = {"ok": True, "requires_python": None, "warning": None}
    else:
        found = explain(proc.stderr)
        if found is None:
            last = [line for line in proc.stderr.strip().splitlines() if line.strip()][-3:]
            return {"ok": True, "requires_python": None, "warning": " ".join(last)[:600]}
        result = {"ok": False, "requires_python": found, "warning": None}
    if cached:
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
    return result


# The options of wsgi.deploy.python_requirements (its module documents them; the action plugin
# that runs it on the controller validates them with this spec too).
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "sites": {"type": "list", "elements": "dict", "required": True},
    "pythons": {"type": "dict", "required": True},
    "host": {"type": "str", "required": True},
    "debian": {"type": "str", "default": ""},
    "cache_dir": {"type": "path", "default": ""},
}


def check_sites(params: dict[str, Any], python: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for the present sites of `params` (ARGUMENT_SPEC's options), asking
    the pip of `python` (the controller's). A site with no requirements, or whose interpreter
    the host checks found unusable (they report that), is not asked about."""
    errors: list[str] = []
    warnings: list[str] = []
    for site in params["sites"]:
        if site.get("state") != "present":
            continue
        reqs = list(site.get("requirements") or [])
        req_file = None
        source = site.get("source") or {}
        if site.get("requirements_file") and source.get("type") == "local":
            req_file = os.path.join(source["path"], site["requirements_file"])
        if not reqs and not req_file:
            continue
        version = (params["pythons"] or {}).get(site["python"])
        if not version:
            continue
        result = check(
            python,
            str(version),
            reqs,
            req_file,
            site.get("pip_index_url"),
            source.get("path") if source.get("type") == "local" else None,
            params["cache_dir"] or None,
        )
        if result["requires_python"]:
            errors.append(
                message(
                    site["name"],
                    params["host"],
                    str(version),
                    params["debian"],
                    result["requires_python"],
                )
            )
        elif result["warning"]:
            warnings.append(f"site '{site['name']}': requirements not checked: {result['warning']}")
    return errors, warnings
