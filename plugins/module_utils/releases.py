"""Release directories of a site, on the target: hashing, manifests, atomic links.

A site's tree (README "Releases"):
  <root>/releases/<id>/src        the code of one release (root-owned)
  <root>/releases/<id>/venv       -> ../../venvs/<key>  (its virtualenv, shared by releases
                                  whose interpreter and requirements are the same)
  <root>/releases/<id>/static     collected static files (Django)
  <root>/releases/<id>/release.json   the manifest (what the release is, whether it is complete)
  <root>/current                  -> releases/<id>  (switched atomically)
  <root>/src, venv, static        -> current/...  (stable paths for the servers)
  <root>/venvs/<key>              virtualenvs, keyed by a hash of what they are built from
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from typing import Any

MANIFEST = "release.json"
VENV_MARKER = ".wsgi-venv-complete"
SKIP_DIRS = {".git", "__pycache__"}
SKIP_SUFFIXES = (".pyc",)
INCLUDE_RE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(\s+|=)(\S+)")


# The code hash of a site without code of its own (its app comes from its requirements).
EMPTY_TREE_HASH = hashlib.sha256(b"").hexdigest()


def tree_hash(top: str) -> str:
    """A hash of a source tree: names, kinds, permission bits, contents and link targets."""
    digest = hashlib.sha256()
    if not os.path.isdir(top):
        return ""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel_dir = os.path.relpath(dirpath, top)
        for name in sorted(dirnames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                digest.update(f"L {rel_dir}/{name} {os.readlink(path)}\n".encode())
        for name in sorted(filenames):
            if name.endswith(SKIP_SUFFIXES):
                continue
            path = os.path.join(dirpath, name)
            rel = f"{rel_dir}/{name}"
            if os.path.islink(path):
                digest.update(f"L {rel} {os.readlink(path)}\n".encode())
                continue
            mode = os.stat(path).st_mode & 0o777
            digest.update(f"F {rel} {mode:o} {file_hash(path)}\n".encode())
    return digest.hexdigest()


def file_hash(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return ""
    return digest.hexdigest()


def requirements_text(src: str, rel: str | None, seen: set[str] | None = None) -> str:
    """A requirements file with the files it includes (-r/-c), for hashing."""
    if not rel:
        return ""
    seen = seen if seen is not None else set()
    path = os.path.normpath(os.path.join(src, rel))
    if path in seen or not path.startswith(os.path.normpath(src) + os.sep):
        return ""
    seen.add(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return ""
    parts = [f"# {rel}\n{text}"]
    for line in text.splitlines():
        match = INCLUDE_RE.match(line)
        if match:
            inc = os.path.join(os.path.dirname(rel), match.group(3))
            parts.append(requirements_text(src, inc, seen))
    return "\n".join(parts)


def venv_key(inputs: dict[str, Any]) -> str:
    """The key of a virtualenv: a hash of everything it is built from."""
    blob = json.dumps(inputs, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: str, data: dict[str, Any], mode: int = 0o644) -> bool:
    """Write atomically; True when the content changed."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode)


def write_text(path: str, text: str, mode: int = 0o644) -> bool:
    """Write atomically; True when the content changed."""
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except OSError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def venv_complete(venv_dir: str, key: str) -> bool:
    """The virtualenv was built to the end for `key` (its marker, written last, holds the key)."""
    try:
        with open(os.path.join(venv_dir, VENV_MARKER), encoding="utf-8") as handle:
            return handle.read().strip() == key
    except OSError:
        return False


def mark_venv_complete(venv_dir: str, key: str) -> None:
    """Written after the last step of a virtualenv's build: from now on releases may use it."""
    write_text(os.path.join(venv_dir, VENV_MARKER), key + "\n")


def link_target(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def atomic_link(target: str, path: str) -> bool:
    """Point the symlink `path` at `target` in one rename; True when it changed."""
    if link_target(path) == target:
        return False
    tmp = f"{path}.tmp{os.getpid()}"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)
    return True


def replace_with_link(target: str, path: str) -> bool:
    """Make `path` a symlink to `target`, also when it is a real directory of the layout before
    releases (moved aside in one rename, the link put in its place, then the old one removed)."""
    if os.path.islink(path) or not os.path.lexists(path):
        return atomic_link(target, path)
    aside = f"{path}.pre-releases.{int(time.time())}"
    os.rename(path, aside)
    os.symlink(target, path)
    if os.path.isdir(aside):
        shutil.rmtree(aside)
    else:
        os.unlink(aside)
    return True


def release_ids(releases_dir: str) -> list[str]:
    """Release ids, oldest first (ids start with their UTC creation time)."""
    try:
        return sorted(
            d for d in os.listdir(releases_dir) if os.path.isdir(os.path.join(releases_dir, d))
        )
    except FileNotFoundError:
        return []


def current_id(current: str) -> str | None:
    target = link_target(current)
    return os.path.basename(target.rstrip("/")) if target else None


def manifest(releases_dir: str, release: str | None) -> dict[str, Any] | None:
    if not release:
        return None
    return read_json(os.path.join(releases_dir, release, MANIFEST))


def copy_tree(src: str, dest: str) -> None:
    """Copy a source tree into a new release (symlinks kept as links, VCS data left out)."""
    shutil.copytree(
        src,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(*SKIP_DIRS, *(f"*{s}" for s in SKIP_SUFFIXES)),
    )


def inside(path: str, top: str) -> bool:
    """`path`, symlinks resolved, is `top` or below it (also resolved)."""
    real_top = os.path.realpath(top)
    real = os.path.realpath(path)
    return real == real_top or real.startswith(real_top + os.sep)


def utc_stamp(now: float | None = None) -> str:
    """Compact UTC time, the start of release ids: 20261201T120000Z."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def iso_now(now: float | None = None) -> str:
    """ISO 8601 UTC time for manifests and records: 2026-12-01T12:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def prune(site: dict[str, Any], check: bool) -> dict[str, Any]:
    """Keep the newest `keep_releases` complete releases, and always the current and the
    previous one; remove older and stale incomplete ones and the venvs no kept release uses."""
    releases_dir = site["releases_dir"]
    ids = release_ids(releases_dir)
    current = current_id(site["current"])
    complete = [r for r in ids if (manifest(releases_dir, r) or {}).get("complete")]
    keep = set(complete[-int(site.get("keep_releases") or 5) :])
    if current:
        keep.add(current)
        older = [r for r in complete if r < current]
        if older:
            keep.add(older[-1])  # the previous release: a rollback never needs a rebuild
    # A newer incomplete release may be a build in progress elsewhere: only older ones go.
    doomed = [r for r in ids if r not in keep and (r in complete or (current and r < current))]
    # Venvs of the kept releases, and of newer incomplete ones (being built), stay.
    used = {(manifest(releases_dir, r) or {}).get("venv_key") for r in ids if r not in doomed}
    venvs: list[str] = []
    if os.path.isdir(site["venvs_dir"]):
        venvs = sorted(v for v in os.listdir(site["venvs_dir"]) if v not in used)
    if not check:
        for r in doomed:
            shutil.rmtree(os.path.join(releases_dir, r), ignore_errors=True)
        for v in venvs:
            shutil.rmtree(os.path.join(site["venvs_dir"], v), ignore_errors=True)
    return {"changed": bool(doomed or venvs), "removed": doomed, "removed_venvs": venvs}
