"""The inventory model: groups → hosts → sites, read with ``ansible-inventory --list``.

Loading never raises: problems come back as :attr:`Inventory.errors`. Secret values found in
host vars (each site's ``secrets`` dict, any secret-looking variable) are collected into
:attr:`Inventory.secret_values` for redaction and removed from the stored host vars.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import sitemodel
from .paths import subprocess_path, tool_path
from .redact import Redactor, collect_secret_values, is_secret_key

# The collection's stack registry and site model decide stacks and modes (tui/.../sitemodel.py).
DEFAULT_STACK = sitemodel.default_stack()
TARGET_GROUP = "wsgi_servers"
# Run by the Ansible's Python, never imported here (inventory_reader.py says why it is faster).
READER = Path(__file__).with_name("inventory_reader.py")


@dataclass(frozen=True)
class Site:
    name: str
    domain: str = ""
    aliases: tuple[str, ...] = ()
    path: str = "/"
    kind: str = "wsgi"
    stack: str = DEFAULT_STACK
    mode: str = ""
    processes: int | None = None
    threads: int | None = None
    state: str = "present"
    env_keys: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()

    @property
    def resolved_mode(self) -> str:
        """The mode the site runs in, as the site model resolves it (the stack's default when
        the site sets none; "" on a stack without modes)."""
        return self.mode

    @cached_property
    def haystack(self) -> str:
        """What the filter searches (lower case)."""
        return " ".join(
            (
                self.name,
                self.domain,
                *self.aliases,
                self.path,
                self.stack,
                self.kind,
                self.resolved_mode,
                self.state,
            )
        ).lower()

    def matches(self, needle: str) -> bool:
        return needle in self.haystack


@dataclass
class Host:
    name: str
    groups: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    sites: list[Site] = field(default_factory=list)
    site_errors: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return str(self.vars.get("ansible_host") or self.name)

    @cached_property
    def folded(self) -> str:
        """The name as the filter compares it (lower case)."""
        return self.name.lower()

    @property
    def default_stack(self) -> str:
        return str(self.vars.get("wsgi_default_stack") or DEFAULT_STACK)


@dataclass
class Group:
    name: str
    children: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


@dataclass
class Inventory:
    source: str
    groups: dict[str, Group] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    environment: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    secret_values: set[str] = field(default_factory=set)
    load_seconds: float = 0.0
    # A model read back from the cache (see load_cached_inventory): good for browsing, but it
    # has no secret values to redact with, so nothing is launched until the fresh one is in.
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def name(self) -> str:
        """The name an operator types to confirm an apply on a production inventory."""
        path = Path(self.source)
        if path.is_file() or path.suffix in (".yml", ".yaml", ".ini", ".json"):
            return path.parent.name if path.stem in ("hosts", "inventory") else path.stem
        return path.name

    @property
    def is_production(self) -> bool:
        return (self.environment or "").lower() in ("production", "prod")

    def redactor(self) -> Redactor:
        return Redactor(self.secret_values)

    # -- structure --------------------------------------------------------------------
    def group_hosts(self, group: str, _seen: set[str] | None = None) -> list[str]:
        """All hosts of a group, its children's included, in inventory order."""
        if group == "all":
            return list(self.hosts)
        seen = _seen if _seen is not None else set()
        if group in seen or group not in self.groups:
            return []
        seen.add(group)
        out: list[str] = list(self.groups[group].hosts)
        for child in self.groups[group].children:
            out.extend(self.group_hosts(child, seen))
        return list(dict.fromkeys(out))

    def top_groups(self) -> list[str]:
        if "all" in self.groups:
            return [g for g in self.groups["all"].children if g in self.groups]
        children = {c for g in self.groups.values() for c in g.children}
        return [g for g in self.groups if g not in children]

    def site_names(self, hosts: list[str] | None = None) -> list[str]:
        names: dict[str, None] = {}
        for host in hosts if hosts is not None else list(self.hosts):
            for site in self.hosts[host].sites if host in self.hosts else []:
                names.setdefault(site.name, None)
        return list(names)

    # -- patterns ---------------------------------------------------------------------
    def _match_one(self, pattern: str) -> list[str]:
        if pattern in ("all", "*"):
            return list(self.hosts)
        if pattern in self.groups:
            return self.group_hosts(pattern)
        if pattern in self.hosts:
            return [pattern]
        if any(ch in pattern for ch in "*?["):
            out: list[str] = []
            for group in self.groups:
                if fnmatch.fnmatchcase(group, pattern):
                    out.extend(self.group_hosts(group))
            out.extend(h for h in self.hosts if fnmatch.fnmatchcase(h, pattern))
            return list(dict.fromkeys(out))
        return []

    def resolve(self, pattern: str) -> list[str]:
        """Hosts matched by an Ansible host pattern (``a:b``, ``a,b``, ``a:&b``, ``a:!b``)."""
        parts = [p.strip() for p in pattern.replace(",", ":").split(":") if p.strip()]
        selected: dict[str, None] = {}
        intersections: list[set[str]] = []
        exclusions: set[str] = set()
        for part in parts:
            if part.startswith("&"):
                intersections.append(set(self._match_one(part[1:])))
            elif part.startswith("!"):
                exclusions |= set(self._match_one(part[1:]))
            else:
                selected.update(dict.fromkeys(self._match_one(part)))
        hosts = [h for h in selected if h not in exclusions]
        for inter in intersections:
            hosts = [h for h in hosts if h in inter]
        return hosts

    def target_hosts(self, limit: str | None, group: str = TARGET_GROUP) -> list[str]:
        """The hosts a run of the collection's playbooks would touch."""
        base = self.group_hosts(group) if group in self.groups else list(self.hosts)
        if not limit:
            return base
        limited = set(self.resolve(limit))
        return [h for h in base if h in limited]

    # -- filtering --------------------------------------------------------------------
    def prepare_filter(self) -> None:
        """Build what the filter searches once, where the model is built (a worker thread),
        not at the first keystroke."""
        for host in self.hosts.values():
            _ = host.folded
            for site in host.sites:
                _ = site.haystack

    def filter(self, text: str) -> dict[str, list[tuple[str, list[Site]]]]:
        """Groups → hosts → sites matching ``text`` (every word must match somewhere)."""
        words = [w for w in text.lower().split() if w]
        result: dict[str, list[tuple[str, list[Site]]]] = {}
        # Hosts of a group mostly share the same parsed sites (parse_sites' cache): each set of
        # them is matched once.
        matched: dict[tuple[int, ...], list[Site]] = {}
        for group_name, group in self.groups.items():
            if group_name == "all":
                continue
            group_hit = all(w in group_name.lower() for w in words)
            rows: list[tuple[str, list[Site]]] = []
            for host_name in group.hosts:
                host = self.hosts.get(host_name)
                if host is None:
                    continue
                if group_hit or all(w in host.folded for w in words):
                    rows.append((host_name, host.sites))
                    continue
                key = tuple(map(id, host.sites))
                sites = matched.get(key)
                if sites is None:
                    sites = [s for s in host.sites if all(s.matches(w) for w in words)]
                    matched[key] = sites
                if sites:
                    rows.append((host_name, sites))
            if rows or group_hit and words:
                result[group_name] = rows
        return result


# -- parsing -------------------------------------------------------------------------
def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


ParsedSites = tuple[list[Site], list[str], set[str]]


def parse_sites(
    raw: Any,
    default_stack: str,
    hostvars: dict[str, Any] | None = None,
    cache: dict[str, ParsedSites] | None = None,
) -> ParsedSites:
    """Sites of one host from its ``wsgi_sites`` value: (sites, problems, secret values).

    Stacks and modes are the collection's site model's (with ``wsgi_stack_overrides`` and the
    host's defaults); its validation messages come back as problems. With ``cache``, hosts with
    the same sites and site-model settings (most hosts of a group) are parsed once."""
    if raw is None:
        return [], [], set()
    if not isinstance(raw, list):
        return [], [f"wsgi_sites is a {type(raw).__name__}, expected a list"], set()
    conf = sitemodel.settings({"wsgi_default_stack": default_stack, **(hostvars or {})})
    conf.setdefault("default_stack", default_stack)
    if cache is None:
        return _parse_sites(raw, conf)
    key = json.dumps([raw, conf], sort_keys=True, default=repr)
    if key not in cache:
        cache[key] = _parse_sites(raw, conf)
    sites, problems, secrets = cache[key]
    return list(sites), list(problems), set(secrets)


def _parse_sites(raw: list[Any], conf: dict[str, Any]) -> ParsedSites:
    sites: list[Site] = []
    problems: list[str] = []
    secrets: set[str] = set()
    problems.extend(_model_problems(raw, conf))
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(f"wsgi_sites[{index}] has no name")
            continue
        secret_dict = item.get("secrets") or {}
        secrets |= collect_secret_values(secret_dict)
        for key, value in item.items():
            if key != "secrets" and is_secret_key(key):
                secrets |= collect_secret_values(value)
        env = item.get("env") or {}
        if isinstance(env, dict):
            for key, value in env.items():
                if is_secret_key(key):
                    secrets |= collect_secret_values(value)
        mod_wsgi = item.get("mod_wsgi") if isinstance(item.get("mod_wsgi"), dict) else {}
        aliases = item.get("aliases") or []
        stack, mode = _resolved(item, conf)
        sites.append(
            Site(
                name=str(item["name"]),
                domain=str(item.get("domain") or ""),
                aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
                path=str(item.get("path") or "/"),
                kind=str(item.get("kind") or "wsgi"),
                stack=stack,
                mode=mode,
                processes=_as_int(mod_wsgi.get("processes")),
                threads=_as_int(mod_wsgi.get("threads")),
                state=str(item.get("state") or "present"),
                env_keys=tuple(sorted(env)) if isinstance(env, dict) else (),
                secret_keys=tuple(sorted(secret_dict)) if isinstance(secret_dict, dict) else (),
            )
        )
    return sites, problems, secrets


def _resolved(item: dict[str, Any], conf: dict[str, Any]) -> tuple[str, str]:
    """(stack, mode) of a raw site as the site model resolves them."""
    try:
        (record,) = sitemodel.normalize([item], conf)
    except (KeyError, TypeError, ValueError, AttributeError):  # an invalid site: best effort
        stack = str(item.get("stack") or conf.get("default_stack") or DEFAULT_STACK)
        return stack, ""
    return str(record["stack"]), sitemodel.mode(record["stack"], record)


def _model_problems(raw: list[Any], conf: dict[str, Any]) -> list[str]:
    """The site model's messages, without those about source directories when the controller
    base directory cannot be known here (a templated wsgi_source_base_dir)."""
    found = sitemodel.errors(raw, conf)
    if conf.get("source_base_dir"):
        return found
    return [e for e in found if "source.path" not in e and "not found: no" not in e]


def host_variables(meta: dict[str, Any]) -> dict[str, Any]:
    """Each host's variables from ``_meta``: ``hostvars`` as ``ansible-inventory --list`` gives
    them, or (from ``inventory_reader``) each host's own vars over the part it shares with the
    hosts of the same groups."""
    own: dict[str, Any] = meta.get("hostvars") or {}
    shared: list[dict[str, Any]] | None = meta.get("shared_vars")
    if shared is None:
        return own
    host_shared: dict[str, int] = meta.get("host_shared") or {}
    hostvars: dict[str, Any] = {}
    for name, index in host_shared.items():
        merged = {**shared[index], **own.get(name, {})}
        hostvars[name] = {key: merged[key] for key in sorted(merged)}  # as --list sorts them
    return hostvars


def parse_inventory_json(data: dict[str, Any], source: str) -> Inventory:
    """Build the model from ``ansible-inventory --list`` JSON."""
    inv = Inventory(source=source)
    hostvars = host_variables(data.get("_meta") or {})
    for name, value in data.items():
        if name == "_meta" or not isinstance(value, dict):
            continue
        inv.groups[name] = Group(
            name=name,
            children=list(value.get("children") or []),
            hosts=list(value.get("hosts") or []),
        )
    for group in inv.groups.values():
        for host in group.hosts:
            inv.hosts.setdefault(host, Host(host)).groups.append(group.name)
    for host_name in hostvars:
        inv.hosts.setdefault(host_name, Host(host_name))
    # Propagate group membership upwards for display ("web1 is in wsgi_servers too").
    parents: dict[str, list[str]] = {}
    for group in inv.groups.values():
        for child in group.children:
            parents.setdefault(child, []).append(group.name)
    for host in inv.hosts.values():
        pending = list(host.groups)
        while pending:
            for parent in parents.get(pending.pop(), []):
                if parent not in host.groups and parent != "all":
                    host.groups.append(parent)
                    pending.append(parent)

    secrets: set[str] = set()
    parsed: dict[str, ParsedSites] = {}
    for host_name, host in inv.hosts.items():
        hv = hostvars.get(host_name) or {}
        if not isinstance(hv, dict):
            continue
        for key, value in hv.items():
            if is_secret_key(key) and key != "wsgi_sites":
                secrets |= collect_secret_values(value)
        default_stack = str(hv.get("wsgi_default_stack") or DEFAULT_STACK)
        sites, problems, site_secrets = parse_sites(hv.get("wsgi_sites"), default_stack, hv, parsed)
        secrets |= site_secrets
        host.sites = sites
        host.site_errors = [f"{host_name}: {p}" for p in problems]
        inv.warnings.extend(host.site_errors)
        host.vars = hv
        env = hv.get("wsgi_inventory_environment")
        if env and inv.environment is None:
            inv.environment = str(env)
    inv.secret_values = secrets
    redactor = Redactor(secrets)
    for host in inv.hosts.values():
        host.vars = redactor.data(host.vars)
    inv.prepare_filter()
    return inv


def reader_command(source: str) -> list[str]:
    """The command that lists the inventory: ``inventory_reader`` when the Ansible beside this
    Python is the one that runs it (the console's own installation), else
    ``ansible-inventory --list``."""
    ansible_inventory = tool_path("ansible-inventory")
    if Path(ansible_inventory).parent == Path(sys.executable).parent:
        return [sys.executable, str(READER), "-i", source]
    return [ansible_inventory, "-i", source, "--list"]


def load_inventory(
    source: str | Path, cwd: str | Path | None = None, timeout: float = 120
) -> Inventory:
    """List the inventory with Ansible (``inventory_reader``, else ``ansible-inventory
    --list``) and parse it; errors are returned as values."""
    source = str(source)
    started = time.perf_counter()
    env = dict(os.environ)
    env.update(
        PATH=subprocess_path(),
        ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    if not Path(source).exists():
        return Inventory(source=source, errors=[f"inventory not found: {source}"])
    try:
        proc = subprocess.run(
            reader_command(source),
            capture_output=True,
            text=True,
            env=env,
            cwd=str(cwd) if cwd else None,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Inventory(source=source, errors=[f"ansible-inventory failed: {exc}"])
    stderr_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if proc.returncode != 0:
        message = "\n".join(stderr_lines[-20:]) or f"ansible-inventory exited {proc.returncode}"
        return Inventory(source=source, errors=[message])
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        return Inventory(source=source, errors=[f"ansible-inventory output is not JSON: {exc}"])
    inv = parse_inventory_json(data, source)
    inv.warnings.extend(line for line in stderr_lines if "WARNING" in line)
    inv.load_seconds = time.perf_counter() - started
    return inv


CACHE_VERSION = 2
# The host vars the cached model keeps (what the screens show); the rest comes with the fresh
# model a few seconds later.
CACHED_VARS = ("ansible_host", "ansible_connection", "ansible_user", "wsgi_default_stack")


def _cache_file(cache_dir: Path, source: str) -> Path:
    import hashlib

    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    return cache_dir / f"inventory-{digest}.json"


def save_inventory_cache(
    inventory: Inventory, cache_dir: str | Path, signature: tuple[Any, ...]
) -> None:
    """Keep the parsed model (host vars already redacted; no secret value) for the next start."""
    if not inventory.ok:
        return
    from dataclasses import asdict

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "version": CACHE_VERSION,
        "source": inventory.source,
        "signature": [list(item) for item in signature],
        "environment": inventory.environment,
        "warnings": inventory.warnings,
        "groups": [asdict(g) for g in inventory.groups.values()],
        "hosts": [
            {
                **asdict(h),
                "vars": {k: h.vars[k] for k in CACHED_VARS if k in h.vars},
            }
            for h in inventory.hosts.values()
        ],
    }
    path = _cache_file(cache, inventory.source)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"))
    tmp.replace(path)


def load_cached_inventory(
    source: str | Path, cache_dir: str | Path, signature: tuple[Any, ...] | None = None
) -> Inventory | None:
    """The cached model of ``source`` if its files did not change since (else None)."""
    source = str(source)
    started = time.perf_counter()
    signature = inventory_signature(source) if signature is None else signature
    try:
        with open(_cache_file(Path(cache_dir), source), encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("version") != CACHE_VERSION or data.get("source") != source:
            return None
        if [list(item) for item in signature] != data.get("signature"):
            return None
        inv = Inventory(source=source, environment=data.get("environment"), from_cache=True)
        inv.warnings = list(data.get("warnings") or [])
        for g in data["groups"]:
            inv.groups[g["name"]] = Group(g["name"], list(g["children"]), list(g["hosts"]))
        for h in data["hosts"]:
            sites = [
                Site(
                    **{
                        **site,
                        "aliases": tuple(site["aliases"]),
                        "env_keys": tuple(site["env_keys"]),
                        "secret_keys": tuple(site["secret_keys"]),
                    }
                )
                for site in h["sites"]
            ]
            inv.hosts[h["name"]] = Host(
                h["name"], list(h["groups"]), dict(h["vars"]), sites, list(h["site_errors"])
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    inv.prepare_filter()
    inv.load_seconds = time.perf_counter() - started
    return inv


def inventory_signature(source: str | Path) -> tuple[tuple[str, float, int], ...]:
    """Cheap fingerprint of the inventory files (for reload-on-change)."""
    path = Path(source)
    files: list[Path] = []
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    elif path.exists():
        files = [path]
        for extra in ("group_vars", "host_vars"):
            folder = path.parent / extra
            if folder.is_dir():
                files.extend(sorted(p for p in folder.rglob("*") if p.is_file()))
    out: list[tuple[str, float, int]] = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((str(f), st.st_mtime, st.st_size))
    return tuple(out)
