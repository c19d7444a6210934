#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""The users, directories and files of every site of a host, in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: site_layout
short_description: Ensure the app users, directories and files of all the sites of a host at once
version_added: 1.0.0
description:
  - One call per host whatever the number of sites, and only what differs is changed (a no-op run
    reads, it does not write).
  - Users are created as system accounts with their own group; an existing one is only
    updated (home, shell, comment), and only when its comment starts with C(marker) (the host
    checks refused any other account before, so this never touches an account the collection
    did not create).
  - Directories and files get the owner, group and mode given; files are written atomically.
    C(secret_files) are never shown, in a log, a result or a diff.
  - C(prune) removes, in a directory of the collection's own, every entry not named in its
    C(keep) (the staging trees no site of the host is staged in any more).
  - Supports check mode and diff mode.
options:
  users:
    description: Users (C(name), C(home), C(comment), C(shell)).
    type: list
    elements: dict
    default: []
  marker:
    description: Every user this module may change has a comment starting with it.
    type: str
    default: "WSGI site "
  dirs:
    description: Directories (C(path), C(owner), C(group), C(mode)), created with their parents.
    type: list
    elements: dict
    default: []
  files:
    description: Files with their full content.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: Full content., type: str, required: true}
      owner: {description: Owner., type: str, default: root}
      group: {description: Group., type: str, default: root}
      mode: {description: Octal permissions., type: str, default: "0644"}
  prune:
    description:
      - Directories that hold only what the collection made, with the names of the entries to keep;
        every other entry is removed (after C(dirs) are ensured).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path of the directory., type: path, required: true}
      keep: {description: Names of its entries to keep., type: list, elements: str, default: []}
  secret_files:
    description: Files holding secrets, like C(files) but never logged or shown in a diff.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: Full content., type: str, required: true}
      owner: {description: Owner., type: str, default: root}
      group: {description: Group., type: str, default: root}
      mode: {description: Octal permissions., type: str, default: "0644"}
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: The sites' users, directories and files
  wsgi.deploy.site_layout:
    users: [{name: wsgi-hello, home: /srv/wsgi/hello/data, comment: WSGI site hello}]
    dirs: [{path: /srv/wsgi/hello, owner: root, group: root, mode: "0755"}]
    files:
      - {path: /srv/wsgi/hello/wsgi/wsgi_entry.py, content: "...", mode: "0644"}
"""

RETURN = r"""
changed_paths:
  description: The users (C(user:<name>)) and paths that were (or would be) changed or removed.
  type: list
  elements: str
  returned: always
"""

import grp  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def _ids(owner: str, group: str) -> tuple[int, int]:
    return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid


def ensure_user(user: dict[str, Any], marker: str, check: bool) -> bool:
    name, home = user["name"], user["home"]
    shell = user.get("shell") or "/usr/sbin/nologin"
    comment = user.get("comment") or f"{marker}{name}"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if not check:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", home,
                 "--shell", shell, "--comment", comment, name],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        return True
    if not entry.pw_gecos.startswith(marker):
        raise PermissionError(f"user {name!r} exists and was not created by the collection")
    args: list[str] = []
    if entry.pw_dir != home:
        args += ["--home", home]
    if entry.pw_shell != shell:
        args += ["--shell", shell]
    if entry.pw_gecos != comment:
        args += ["--comment", comment]
    if args and not check:
        subprocess.run(["usermod", *args, name], check=True, capture_output=True, text=True)
    return bool(args)


def ensure_dir(spec: dict[str, Any], check: bool) -> bool:
    path, mode = spec["path"], int(str(spec.get("mode", "0755")), 8)
    changed = False
    if os.path.islink(path):
        raise PermissionError(f"{path} is a symlink: refusing to use it as a directory")
    if not os.path.isdir(path):
        changed = True
        if check:
            return True
        os.makedirs(path, mode=0o755)
    info = os.stat(path)
    uid, gid = _ids(spec.get("owner", "root"), spec.get("group", "root"))
    if (info.st_uid, info.st_gid) != (uid, gid):
        changed = True
        if not check:
            os.chown(path, uid, gid)
    if info.st_mode & 0o7777 != mode:
        changed = True
        if not check:
            os.chmod(path, mode)
    return changed


def ensure_file(spec: dict[str, Any], check: bool) -> tuple[bool, str | None]:
    """(changed, previous content or None when there was no file)."""
    path, mode = spec["path"], int(str(spec.get("mode", "0644")), 8)
    content = spec["content"].encode("utf-8")
    before: bytes | None = None
    if os.path.islink(path):
        raise PermissionError(f"{path} is a symlink: refusing to write through it")
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            before = handle.read()
    uid, gid = (
        (0, 0)
        if check and not _known(spec)
        else _ids(spec.get("owner", "root"), spec.get("group", "root"))
    )
    same_meta = False
    if before is not None:
        info = os.stat(path)
        same_meta = (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (uid, gid, mode)
    if before == content and same_meta:
        return False, None
    if not check:
        tmp = f"{path}.wsgi-tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    return True, (before or b"").decode("utf-8", "replace")


def prune_dir(spec: dict[str, Any], check: bool) -> list[str]:
    """Remove the entries of a directory of the collection's own that are not to be kept."""
    path, keep = spec["path"], set(spec.get("keep") or [])
    if os.path.islink(path) or not os.path.isdir(path):
        return []
    removed: list[str] = []
    for name in sorted(os.listdir(path)):
        if name in keep:
            continue
        entry = os.path.join(path, name)
        removed.append(entry)
        if check:
            continue
        if os.path.isdir(entry) and not os.path.islink(entry):
            shutil.rmtree(entry)
        else:
            os.unlink(entry)
    return removed


def _known(spec: dict[str, Any]) -> bool:
    """In check mode a user or group created by this run does not exist yet."""
    try:
        _ids(spec.get("owner", "root"), spec.get("group", "root"))
    except KeyError:
        return False
    return True


def main() -> None:
    file_spec = {
        "path": {"type": "path", "required": True},
        "content": {"type": "str", "required": True},
        "owner": {"type": "str", "default": "root"},
        "group": {"type": "str", "default": "root"},
        "mode": {"type": "str", "default": "0644"},
    }
    module = AnsibleModule(
        argument_spec={
            "users": {"type": "list", "elements": "dict", "default": []},
            "marker": {"type": "str", "default": "WSGI site "},
            "dirs": {"type": "list", "elements": "dict", "default": []},
            "files": {"type": "list", "elements": "dict", "default": [], "options": file_spec},
            "prune": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "keep": {"type": "list", "elements": "str", "default": []},
                },
            },
            "secret_files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "no_log": True,
                "options": file_spec,
            },
        },
        supports_check_mode=True,
    )
    p = module.params
    check = module.check_mode
    changed: list[str] = []
    diff: list[dict[str, str]] = []
    try:
        for user in p["users"]:
            if ensure_user(user, p["marker"], check):
                changed.append(f"user:{user['name']}")
        for spec in p["dirs"]:
            if ensure_dir(spec, check):
                changed.append(spec["path"])
        for spec in p["prune"]:
            changed.extend(prune_dir(spec, check))
        for spec in p["files"]:
            did, before = ensure_file(spec, check)
            if did:
                changed.append(spec["path"])
                diff.append(
                    {"before_header": spec["path"], "after_header": spec["path"],
                     "before": before or "", "after": spec["content"]}
                )  # fmt: skip
        for spec in p["secret_files"]:
            if ensure_file(spec, check)[0]:
                changed.append(spec["path"])
    except (OSError, KeyError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        module.fail_json(msg=f"site layout: {exc} {detail}".strip(), changed_paths=changed)
    module.exit_json(changed=bool(changed), changed_paths=changed, diff=diff)


if __name__ == "__main__":
    main()
