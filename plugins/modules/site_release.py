#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Release directories of a host's sites: plan and build them aside, switch them atomically."""

from __future__ import annotations

DOCUMENTATION = r"""
module: site_release
short_description: Build each site's release aside, switch it in atomically, prune old ones
version_added: 1.0.0
description:
  - One call per host for all its sites.
  - C(action=plan) compares the staged source of every site (a local source synchronised into
    C(stage/), a git source checked out in C(repo/)) and what its virtualenv is built from with
    the site's current release. When they differ, it copies the source into a new release
    directory C(releases/<time>-<hash>/src) (nothing that serves changes), checks that every
    path the site names stays inside it, and returns the virtualenv key (C(venvs/<key>)) the
    release needs and whether that virtualenv still has to be built.
  - C(action=activate) links the release to its virtualenv, marks it complete and switches the
    site's C(current) link to it in one rename; C(src), C(venv) and C(static) of the site are
    stable links through C(current). A tree from before releases is converted on the way. With
    C(state_dir) it then compares what runs with each site's deployed-state record (C(status),
    the same as wsgi.deploy.site_state's); a site it switched is to be reloaded (and restarted
    when the release it left had another virtualenv) whatever its record says, since its
    processes still run the release it left.
  - C(action=rollback) switches each site of C(targets) back to an earlier complete release
    (an id, C(previous) - the newest one before the current, or C(recorded) - what its
    deployed-state record says ran) and returns, as C(activate) does, the C(status); each result
    names the releases crossed whose build applied migrations (C(crosses_migrations)).
  - C(action=prune) keeps the newest C(keep) releases (and always the current and the
    previous one), deletes older and incomplete ones and the virtualenvs no release uses.
options:
  action:
    description: What to do.
    type: str
    choices: [plan, activate, rollback, prune]
    required: true
  sites:
    description:
      - Normalised site records (wsgi.deploy.site_normalize). For C(activate), each also has
        C(release) (the id to switch to) and C(venv_key).
    type: list
    elements: dict
    required: true
  interpreters:
    description: Per interpreter path, its Python version (from wsgi.deploy.site_facts).
    type: dict
    default: {}
  venv_packages:
    description: Per stack, extra requirements installed into the virtualenvs of its sites.
    type: dict
    default: {}
  commits:
    description: Per site with a git source, the commit that was checked out.
    type: dict
    default: {}
  releases:
    description: For C(activate), the result of C(plan) (per site, C(release) and C(venv_key)).
    type: dict
    default: {}
  state_dir:
    description: For C(activate) and C(rollback), where the records are (returns C(status)).
    type: path
  migrated:
    description: For C(activate), the sites whose new release applied migrations.
    type: list
    elements: str
    default: []
  targets:
    description: For C(rollback), per site where to go back to (an id, C(previous), C(recorded)).
    type: dict
    default: {}
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Plan the releases
  wsgi.deploy.site_release:
    action: plan
    sites: "{{ wsgi_app_present }}"
    interpreters: "{{ wsgi_host_pythons }}"
  register: wsgi_app_plan
"""

RETURN = r"""
status:
  description: With C(action=activate) and C(state_dir), per site what differs from its record.
  type: dict
  returned: when asked
releases:
  description: Per site, the release it should run and what still has to be done for it.
  type: dict
  returned: always
  sample:
    guestbook:
      release: 20261201T120000Z-3f2a9c1b
      new: true
      current_release: 20261130T090000Z-0c1d2e3f
      venv_key: 5e6f7a8b9c0d1e2f
      venv_dir: /srv/wsgi/guestbook/venvs/5e6f7a8b9c0d1e2f
      venv_ready: false
      release_dir: /srv/wsgi/guestbook/releases/20261201T120000Z-3f2a9c1b
"""

import os  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import releases as rel  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.records import status  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.site_model import (  # noqa: E402
    requirements_file_problems,
)


def source_dir(site: dict[str, Any]) -> str | None:
    """Where the site's code is staged on the host (None: the app comes from its requirements)."""
    kind = site["source"]["type"]
    if kind == "none":
        return None
    return site["repo_dir"] if kind == "git" else site["stage_dir"]


def venv_inputs(site: dict[str, Any], src: str | None, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "python": site["python"],
        "version": (params["interpreters"] or {}).get(site["python"]),
        "requirements": site.get("requirements") or [],
        "requirements_file": rel.requirements_text(src, site.get("requirements_file"))
        if src
        else "",
        "packages": (params["venv_packages"] or {}).get(site["stack"], []),
        "index": site.get("pip_index_url"),
    }


def confinement_problems(site: dict[str, Any], src: str) -> list[str]:
    """Paths the site names that are missing or leave the release's code (symlinks resolved)."""
    label = f"site '{site['name']}'"
    problems: list[str] = []
    entry = site["entry"]
    if entry["type"] == "script":
        path = os.path.join(src, entry["target"])
        if not os.path.isfile(path):
            problems.append(f"{label}: field 'entry': {entry['target']} is not in the code")
        elif not rel.inside(path, src):
            problems.append(f"{label}: field 'entry': {entry['target']} leaves the code (symlink)")
    elif not (site.get("requirements") or site.get("requirements_file")):
        # Without requirements the entry must be in the code; with them it may come from an
        # installed package (the release imports it in its virtualenv before it serves).
        module = entry["target"].replace(".", "/")
        if not (
            os.path.isfile(os.path.join(src, module + ".py"))
            or os.path.isfile(os.path.join(src, module, "__init__.py"))
        ):
            problems.append(f"{label}: field 'entry': no {module}.py in the code")
    req = site.get("requirements_file")
    if req:
        if site["source"]["type"] == "git":
            problems.extend(
                f"{label}: field 'requirements_file': {p}"
                for p in requirements_file_problems(src, req)
            )
        elif not rel.inside(os.path.join(src, req), src):
            problems.append(f"{label}: field 'requirements_file': {req} leaves the code (symlink)")
    static = site.get("static") or {}
    if static.get("release", "").startswith("src/"):
        path = os.path.join(src, static["release"][len("src/") :])
        if os.path.lexists(path) and not rel.inside(path, src):
            problems.append(f"{label}: field 'static.dir': it leaves the code (symlink)")
    settings = site.get("django_settings")
    installs = site.get("requirements") or site.get("requirements_file")
    if site["kind"] == "django" and settings and site["source"]["type"] == "git" and not installs:
        module = settings.replace(".", "/")
        if not (
            os.path.isfile(os.path.join(src, module + ".py"))
            or os.path.isfile(os.path.join(src, module, "__init__.py"))
        ):
            problems.append(f"{label}: field 'django_settings': no {module}.py in the code")
    return problems


def plan_site(site: dict[str, Any], params: dict[str, Any], check: bool) -> dict[str, Any]:
    src = source_dir(site)
    problems = confinement_problems(site, src) if src and os.path.isdir(src) else []
    code_hash = rel.tree_hash(src) if src else rel.EMPTY_TREE_HASH
    key = rel.venv_key(venv_inputs(site, src, params))
    current = rel.current_id(site["current"])
    current_manifest = rel.manifest(site["releases_dir"], current)
    out: dict[str, Any] = {
        "current_release": current,
        "venv_key": key,
        "venv_dir": os.path.join(site["venvs_dir"], key),
        "code_hash": code_hash,
        "problems": problems,
        "legacy": os.path.isdir(site["src_dir"]) and not os.path.islink(site["src_dir"]),
    }
    out["venv_ready"] = rel.venv_complete(out["venv_dir"], key)
    wanted = {"code_hash": code_hash, "venv_key": key}
    if current_manifest and all(current_manifest.get(k) == v for k, v in wanted.items()):
        release_dir = os.path.join(site["releases_dir"], str(current))
        return {
            **out,
            "release": current,
            "release_dir": release_dir,
            "new": False,
            "complete": True,
        }
    # A complete release built by a run that died before switching to it is used as it is.
    for rid in reversed(rel.release_ids(site["releases_dir"])):
        found = rel.manifest(site["releases_dir"], rid) or {}
        if found.get("complete") and all(found.get(k) == v for k, v in wanted.items()):
            release_dir = os.path.join(site["releases_dir"], rid)
            return {
                **out,
                "release": rid,
                "release_dir": release_dir,
                "new": False,
                "complete": True,
            }
    release = f"{rel.utc_stamp()}-{code_hash[:8]}"
    out.update(release=release, new=True, complete=False)
    out["release_dir"] = os.path.join(site["releases_dir"], release)
    if check or problems or (src is not None and not os.path.isdir(src)):
        return out
    release_dir = os.path.join(site["releases_dir"], release)
    os.makedirs(site["releases_dir"], mode=0o755, exist_ok=True)
    if src is None:  # no code of its own: an empty src (the working directory of its commands)
        os.makedirs(os.path.join(release_dir, "src"), mode=0o755)
    else:
        rel.copy_tree(src, os.path.join(release_dir, "src"))
    os.chmod(release_dir, 0o755)
    # Linked now (dangling until the venv is built) so the build steps can use the release.
    os.symlink(os.path.join("..", "..", "venvs", key), os.path.join(release_dir, "venv"))
    static = site.get("static") or {}
    if static.get("release") == "static" and not static.get("package"):
        # A package's static files are copied here once the venv is built (wsgi_venv).
        os.makedirs(os.path.join(release_dir, "static"), mode=0o755, exist_ok=True)
    elif (static.get("release") or "").startswith("src/"):
        # A static dir the code does not have (yet): created empty, so the web server serves
        # an empty directory (404s) rather than failing, and a command can fill it.
        path = os.path.join(release_dir, static["release"])
        if not os.path.lexists(path):
            os.makedirs(path, mode=0o755)
    source = {k: v for k, v in site["source"].items() if k in ("type", "repo", "version")}
    if site["name"] in (params["commits"] or {}):
        source["commit"] = params["commits"][site["name"]]
    rel.write_json(
        os.path.join(release_dir, rel.MANIFEST),
        {
            "id": release,
            "site": site["name"],
            "created": rel.iso_now(),
            "code_hash": code_hash,
            "venv_key": key,
            "source": source,
            "complete": False,
        },
    )
    return out


def activate_site(site: dict[str, Any], check: bool) -> dict[str, Any]:
    release = site["release"]
    release_dir = os.path.join(site["releases_dir"], release)
    previous = rel.current_id(site["current"])
    manifest = rel.manifest(site["releases_dir"], release)
    if manifest is None and not check:
        raise ValueError(f"site '{site['name']}': release {release} does not exist")
    changed = previous != release
    stable = [("src", "current/src"), ("venv", "current/venv")]
    if (site.get("static") or {}).get("release") == "static":
        stable.append(("static", "current/static"))
    for name, target in stable:
        if rel.link_target(os.path.join(site["root"], name)) != target:
            changed = True
    if check:
        return {"changed": changed, "previous": previous, "release": release}
    if manifest is not None and not manifest.get("complete"):
        manifest.update(complete=True, completed=rel.iso_now())
        if site.get("migrated"):
            manifest["migrated"] = True  # its build applied migrations to the shared database
        rel.write_json(os.path.join(release_dir, rel.MANIFEST), manifest)
    rel.atomic_link(os.path.join("releases", release), site["current"])
    for name, target in stable:
        rel.replace_with_link(target, os.path.join(site["root"], name))
    return {"changed": changed, "previous": previous, "release": release}


def rollback_target(site: dict[str, Any], target: str) -> str:
    """The release a rollback goes to: an id, 'previous' (the newest complete release before
    the current one) or 'recorded' (the release the deployed-state record says ran)."""
    releases_dir = site["releases_dir"]
    current = rel.current_id(site["current"])
    complete = [
        r
        for r in rel.release_ids(releases_dir)
        if (rel.manifest(releases_dir, r) or {}).get("complete")
    ]
    if target == "recorded":
        record = rel.read_json(site["state_file"]) or {}
        found = record.get("release")
        if not found or found == current:
            raise LookupError(f"site '{site['name']}': no recorded earlier release to go back to")
        return str(found)
    if target == "previous":
        older = [r for r in complete if current and r < current]
        if not older:
            raise ValueError(f"site '{site['name']}': no release before {current} to go back to")
        return older[-1]
    if target not in complete:
        known = ", ".join(complete) or "none"
        raise ValueError(f"site '{site['name']}': no complete release {target!r} (kept: {known})")
    return target


def rollback_site(site: dict[str, Any], target: str, check: bool) -> dict[str, Any]:
    """Switch a site's `current` back to an earlier release (its own virtualenv, static files)."""
    release = rollback_target(site, target)
    releases_dir = site["releases_dir"]
    current = rel.current_id(site["current"])
    manifest = rel.manifest(releases_dir, release) or {}
    # Releases newer than the target up to the current one whose build migrated the database.
    crossed = [
        r
        for r in rel.release_ids(releases_dir)
        if release < r <= (current or "") and (rel.manifest(releases_dir, r) or {}).get("migrated")
    ]
    result = activate_site(
        {**site, "release": release, "venv_key": manifest.get("venv_key")}, check
    )
    result.update(rolled_back_from=current, crosses_migrations=crossed)
    return result


def reload_switched(
    site: dict[str, Any], st: dict[str, Any], result: dict[str, Any] | None
) -> dict[str, Any]:
    """A site whose `current` this call switched is reloaded whatever its record says: its
    processes still run the release it left. (The automatic rollback after a failed health check
    goes back to the release the record names: what is on disk matches the record again, but
    the app runs the failed release until it is reloaded.) It restarts when the virtualenv of
    the release it left is another one."""
    left, taken = (result or {}).get("previous"), (result or {}).get("release")
    if not (result or {}).get("changed") or not left or left == taken:
        return st
    venvs = [(rel.manifest(site["releases_dir"], r) or {}).get("venv_key") for r in (left, taken)]
    return {
        **st,
        "reasons": [*st["reasons"], f"switched from {left}"],
        "reload": True,
        "restart": st["restart"] or venvs[0] != venvs[1],
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {
                "type": "str",
                "choices": ["plan", "activate", "rollback", "prune"],
                "required": True,
            },
            "sites": {"type": "list", "elements": "dict", "required": True},
            "interpreters": {"type": "dict", "default": {}},
            "venv_packages": {"type": "dict", "default": {}},
            "commits": {"type": "dict", "default": {}},
            "releases": {"type": "dict", "default": {}},
            "state_dir": {"type": "path"},
            "migrated": {"type": "list", "elements": "str", "default": []},
            "targets": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    check = module.check_mode
    started = time.monotonic()
    results: dict[str, Any] = {}
    try:
        for site in params["sites"]:
            if params["action"] == "plan":
                results[site["name"]] = plan_site(site, params, check)
            elif params["action"] == "activate":
                planned = (params["releases"] or {}).get(site["name"])
                if not planned:
                    continue
                wanted = {
                    "release": planned["release"],
                    "venv_key": planned["venv_key"],
                    "migrated": site["name"] in (params["migrated"] or []),
                }
                results[site["name"]] = activate_site({**site, **wanted}, check)
            elif params["action"] == "rollback":
                target = (params["targets"] or {}).get(site["name"])
                if target:
                    try:
                        results[site["name"]] = rollback_site(site, str(target), check)
                    except LookupError as exc:  # nothing to go back to: said, not fatal
                        results[site["name"]] = {"changed": False, "skipped": str(exc)}
            else:
                results[site["name"]] = rel.prune(site, check)
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"{params['action']} failed: {exc}", releases=results)
    problems = [p for r in results.values() for p in r.get("problems", [])]
    if problems:
        module.fail_json(
            msg="Refused before anything that serves changed:\n- " + "\n- ".join(problems),
            releases=results,
        )
    if params["action"] == "plan":
        changed = any(r["new"] for r in results.values())
    else:
        changed = any(r["changed"] for r in results.values())
    extra: dict[str, Any] = {}
    if params["action"] in ("activate", "rollback") and params["state_dir"]:
        # What runs compared with what should run, once every site is switched (its records).
        extra["status"] = {
            s["name"]: reload_switched(s, status(s, params), results.get(s["name"]))
            for s in params["sites"]
        }
    module.exit_json(
        changed=changed, releases=results, seconds=round(time.monotonic() - started, 3), **extra
    )


if __name__ == "__main__":
    main()
