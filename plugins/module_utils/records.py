"""The deployed-state record of a site (README "Releases"): what runs, as fingerprints of what is
on disk (its current release, settings and server configuration) when it last answered after a
deploy, compared on every run with what is on disk now."""

from __future__ import annotations

import os
from typing import Any

from . import releases as rel
from .certinfo import cert_info
from .site_services import unit_paths
from .stacks import mode, server_files

SCHEMA = 1
FINGERPRINT_KEYS = ("release", "venv_key", "code", "settings", "server")


def fingerprint(site: dict[str, Any]) -> dict[str, Any]:
    """What is on disk for the site now: its release, settings and server configuration."""
    release = rel.current_id(site["current"])
    manifest = rel.manifest(site["releases_dir"], release) or {}
    servers = server_files(site["stack"], site["name"])
    return {
        "release": release,
        "venv_key": manifest.get("venv_key"),
        "code": manifest.get("code_hash"),
        # The env file, the entry file and the site's config files: the app reads them at start.
        "settings": "|".join(
            rel.file_hash(path)
            for path in [site["env_file"], site["wsgi_file"]]
            + [conf["path"] for conf in site.get("config_files") or []]
            + ([site["django_layer_file"]] if site.get("django_layer_file") else [])
        ),
        "server": {p: rel.file_hash(p) for paths in servers.values() for p in paths},
        # The units of the site's processes and timers (role wsgi_workers).
        "workers": {p: rel.file_hash(p) for p in unit_paths(site)},
    }


def releases_of(site: dict[str, Any], current: str | None) -> list[dict[str, Any]]:
    out = []
    for rid in rel.release_ids(site["releases_dir"]):
        manifest = rel.manifest(site["releases_dir"], rid) or {}
        if not manifest.get("complete"):
            continue
        source = manifest.get("source") or {}
        out.append(
            {
                "id": rid,
                "time": manifest.get("completed") or manifest.get("created"),
                "version": source.get("commit")
                or source.get("version")
                or manifest.get("code_hash", "")[:12],
                "current": rid == current,
            }
        )
    return out


def status(site: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    now = fingerprint(site)
    record = rel.read_json(os.path.join(params["state_dir"], f"{site['name']}.json"))
    was = (record or {}).get("fingerprint") or {}
    reasons = [k for k in FINGERPRINT_KEYS if k != "server" and was.get(k) != now.get(k)]
    old_server = was.get("server") if isinstance(was.get("server"), dict) else {}
    old_workers = was.get("workers") if isinstance(was.get("workers"), dict) else {}
    changed_files = sorted(p for p, h in now["server"].items() if old_server.get(p) != h)
    servers = server_files(site["stack"], site["name"])
    changed = {srv: [p for p in paths if p in changed_files] for srv, paths in servers.items()}
    if record is None:
        reasons = ["never recorded"]
        changed = {srv: list(paths) for srv, paths in servers.items()}
    reasons += [f"{srv} configuration" for srv, paths in changed.items() if paths and record]
    app_changed = bool(changed.get("app"))
    return {
        "fingerprint": now,
        "record": record,
        "reasons": reasons,
        # The app must take a new release, virtualenv, settings or unit (mod_wsgi daemon
        # restart, HUP or restart): a change of the web server's files alone does not need it.
        "reload": record is None
        or app_changed
        or any(k in reasons for k in ("release", "venv_key", "code", "settings")),
        # Another virtualenv or unit: the app server must restart (a HUP keeps the interpreter).
        "restart": record is None or "venv_key" in reasons or app_changed,
        # A socket unit changed: the socket itself must be restarted (clients reconnect).
        "socket_changed": record is not None and any(p.endswith(".socket") for p in changed_files),
        # The units of the site's processes and timers that differ from the record (written by
        # a run that died before it restarted them): they restart.
        "workers_changed": sorted(
            p for p, h in now["workers"].items() if record and old_workers.get(p) != h
        ),
        # Per server ("web", "app"): its files that differ from the record.
        "server_changed": changed,
    }


def describe(site: dict[str, Any]) -> dict[str, Any]:
    source = {
        k: v for k, v in (site.get("source") or {}).items() if k in ("type", "repo", "version")
    }
    return {
        "schema": SCHEMA,
        "site": site["name"],
        "state": "present",
        "stack": site["stack"],
        "mode": mode(site["stack"], site),
        "kind": site["kind"],
        "domain": site["domain"],
        "names": site["names"],
        "path": site["path"],
        "source": source,
        # What the site runs besides its app (for the console): process names, timer schedules.
        "services": services_of(site),
    }


def services_of(site: dict[str, Any]) -> dict[str, Any]:
    services = site.get("services") or {}
    return {
        "processes": [p["name"] for p in services.get("processes") or []],
        "timers": {t["name"]: t["on_calendar"] for t in services.get("timers") or []},
    }


def tls_of(site: dict[str, Any]) -> dict[str, Any]:
    """The site's TLS mode and what its certificate says (for the console: names and expiry)."""
    tls = site.get("tls") or {}
    if not tls.get("enabled"):
        return {"mode": "off"}
    info = cert_info(tls["cert"], site["name"]) or {}
    keep = ("not_after", "issuer", "names", "acme")
    return {"mode": tls["mode"], **{k: info[k] for k in keep if k in info}}


def record(
    site: dict[str, Any],
    params: dict[str, Any],
    check: bool,
    pruned: dict[str, Any] | None = None,
) -> bool:
    """Write the site's record when it changed. `pruned`: what rel.prune removed (or, in check
    mode, would remove) just before, left out of the release list."""
    path = os.path.join(params["state_dir"], f"{site['name']}.json")
    now = fingerprint(site)
    old = rel.read_json(path) or {}
    data = describe(site)
    gone = set((pruned or {}).get("removed") or [])
    release_list = [r for r in releases_of(site, now["release"]) if r["id"] not in gone]
    for entry in release_list:
        if entry["current"]:
            data["source"] = {**data["source"], "version": entry["version"]}
    data.update(release=now["release"], releases=release_list, fingerprint=now)
    data["tls"] = tls_of(site)
    same = all(old.get(k) == v for k, v in data.items())
    if same:
        return False
    data.update(
        deployed_at=rel.iso_now(),
        deployed_by=params["run_by"],
        run_id=params["run_id"],
        collection_version=params["collection_version"],
    )
    if not check:
        os.makedirs(params["state_dir"], mode=0o755, exist_ok=True)
        rel.write_json(path, data)
    return True
