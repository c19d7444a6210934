"""Filters of the TLS material, run on the controller before any change.

wsgi.deploy.tls_errors(sites, settings, trusted='')  -> problems of the `provided` certificates
    (unreadable, key mismatch, a name not covered, expired, chain out of order or incomplete),
    each naming the site
wsgi.deploy.tls_provided(sites, settings)  -> {site name: {cert, key}} of the `provided` sites
    (PEM text: the caller passes it on with no_log)
wsgi.deploy.tls_local_certs(sites, default_name)  -> [{name, names}] the local CA issues for a
    host: its default server's and those of its self_signed and acme (placeholder) sites
wsgi.deploy.tls_local_material(certs, issued_dir)  -> {name: {cert, key}} read from the files
wsgi.deploy.tls_files(sites, material, tls_dir)  -> {files, secret_files} for
    wsgi.deploy.validated_change (an acme site's placeholder is written only once: certbot's
    deploy hook replaces it)
wsgi.deploy.tls_acme_needed(sites, facts)  -> the acme sites certbot must issue for
wsgi.deploy.tls_ocsp(material)  -> {name: whether its certificate names an OCSP responder}
wsgi.deploy.tls_acme_failures(results, directory)  -> one line per site certbot got no
    certificate for (its registered loop results): the site, its names, the directory, the end
    of what certbot said
wsgi.deploy.tls_acme_errors(settings)  -> problems of the host's ACME settings (directory, email,
    external account binding), each naming the variable (never the HMAC key's value)
wsgi.deploy.tls_ca_ready(ca_dir)  -> whether the local CA's key and certificate exist and match
wsgi.deploy.tls_local_pending(certs, issued_dir, ca_dir, renew_days)  -> the certificates of
    tls_local_certs the local CA must issue (again): missing, unreadable, another key, other
    names, another CA, or expiring within renew_days (an unchanged run issues none, so it runs
    no task for them)
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible_collections.wsgi.deploy.plugins.module_utils.tls import tls_value
from ansible_collections.wsgi.deploy.plugins.plugin_utils.certs import (
    describe,
    issue_reason,
    material_problems,
)

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _read(path: str, settings: dict[str, Any]) -> str:
    base = str(settings.get("source_base_dir") or os.getcwd())
    full = path if os.path.isabs(path) else os.path.join(base, path)
    with open(full, encoding="utf-8") as handle:
        return handle.read()


def _material(site: dict[str, Any], settings: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    tls = tls_value(site, settings)
    found: dict[str, str] = {}
    problems = []
    for what in ("cert", "key"):
        if isinstance(tls.get(what), str):
            found[what] = tls[what]
            continue
        path = tls.get(f"{what}_file")
        try:
            found[what] = _read(str(path), settings)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"tls.{what}_file {path!r} cannot be read ({exc.__class__.__name__})")
    return found, problems


def _provided(sites: Any, settings: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in sites or []
        if isinstance(s, dict)
        and s.get("state", "present") != "absent"
        and tls_value(s, settings).get("mode") == "provided"
    ]


def tls_errors(sites: Any, settings: dict[str, Any] | None = None, trusted: str = "") -> list[str]:
    settings = settings or {}
    if not trusted and os.path.isfile(SYSTEM_BUNDLE):
        with open(SYSTEM_BUNDLE, encoding="utf-8") as handle:
            trusted = handle.read()
    errors = []
    for site in _provided(sites, settings):
        label = f"site '{site.get('name')}'"
        material, problems = _material(site, settings)
        if not problems:
            names = [site.get("domain"), *(site.get("aliases") or [])]
            problems = material_problems(material["cert"], material["key"], names, trusted)
        errors.extend(f"{label}: field 'tls': {p}" for p in problems)
    return errors


def tls_provided(sites: Any, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = settings or {}
    out = {}
    for site in _provided(sites, settings):
        material, problems = _material(site, settings)
        if problems:
            raise AnsibleFilterError(f"site '{site.get('name')}': {'; '.join(problems)}")
        out[str(site["name"])] = material
    return out


def tls_local_certs(
    sites: list[dict[str, Any]], default_name: str, with_default: bool = True
) -> list[dict[str, Any]]:
    certs = [{"name": "_default", "names": [default_name]}] if with_default else []
    certs += [
        {"name": s["name"], "names": s["names"]}
        for s in sites
        if s["tls"]["mode"] in ("self_signed", "acme")
    ]
    return certs


def tls_local_material(certs: list[dict[str, Any]], issued_dir: str) -> dict[str, Any]:
    out = {}
    for cert in certs:
        base = os.path.join(issued_dir, cert["name"])
        with open(f"{base}.pem", encoding="ascii") as c, open(f"{base}.key", encoding="ascii") as k:
            out[cert["name"]] = {"cert": c.read(), "key": k.read()}
    return out


def tls_files(
    sites: list[dict[str, Any]], material: dict[str, Any], tls_dir: str, with_default: bool = True
) -> dict[str, Any]:
    files: list[dict[str, Any]] = []
    secret: list[dict[str, Any]] = []
    entries = [("_default", False)] if with_default else []
    entries += [(s["name"], s["tls"]["mode"] == "acme") for s in sites]
    for name, once in entries:
        pem = material.get(name)
        if pem is None:
            raise AnsibleFilterError(f"no certificate for site '{name}' (role wsgi_tls)")
        base = f"{tls_dir}/{name}"
        files.append({"path": f"{base}/fullchain.pem", "content": pem["cert"], "mode": "0644",
                      "create_only": once})  # fmt: skip
        secret.append({"path": f"{base}/privkey.pem", "content": pem["key"], "mode": "0600",
                       "create_only": once})  # fmt: skip
    return {"files": files, "secret_files": secret}


def tls_ocsp(
    material: dict[str, Any],
    sites: list[dict[str, Any]] | None = None,
    served: dict[str, Any] | None = None,
) -> dict[str, bool]:
    """Whether each certificate names an OCSP responder: those in hand (`material`), and for an
    acme site the one it serves (`served`, wsgi.deploy.site_facts' `tls`: certbot's, once issued;
    the placeholder in hand has none)."""
    out = {name: bool(describe(pem["cert"])["ocsp"]) for name, pem in material.items()}
    for site in sites or []:
        if site["tls"]["mode"] == "acme":
            out[site["name"]] = bool(((served or {}).get(site["name"]) or {}).get("ocsp"))
    return out


def tls_acme_needed(sites: list[dict[str, Any]], facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The acme sites certbot must obtain a certificate for: none from ACME yet (the local CA's
    placeholder is served), or one that does not cover every name of the site."""
    need = []
    for site in sites:
        info = (facts or {}).get(site["name"]) or {}
        names = set(info.get("names") or [])
        if not info.get("acme") or not set(site["names"]) <= names:
            need.append(site)
    return need


# What lands in certbot's argv, its renewal configuration and the EAB file: one line each.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_EAB_KID = re.compile(r"[A-Za-z0-9._~+/=:-]{1,256}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{16,}={0,2}")


def tls_acme_errors(settings: dict[str, Any]) -> list[str]:
    """Problems of the ACME settings of a host (`wsgi_tls_acme_directory`, `_email`,
    `_eab_kid`, `_eab_hmac_key`; an absent or empty one is the role's default)."""
    problems = []
    directory = str(settings.get("directory") or "")
    if directory:
        url = urlsplit(directory)
        if url.scheme != "https" or not url.hostname or re.search(r"[\s\x00-\x1f\x7f]", directory):
            problems.append(
                f"wsgi_tls_acme_directory {directory!r} is not an https:// URL of an ACME directory"
            )
    email = str(settings.get("email") or "")
    for address in email.split(",") if email else []:
        if not _EMAIL.fullmatch(address.strip()):
            problems.append(f"wsgi_tls_acme_email: {address.strip()!r} is not an email address")
    kid = str(settings.get("eab_kid") or "")
    hmac_key = str(settings.get("eab_hmac_key") or "")
    if kid and not _EAB_KID.fullmatch(kid):
        problems.append(
            "wsgi_tls_acme_eab_kid is not a key id (1-256 letters, digits and . _ ~ + / = : -)"
        )
    if kid and not hmac_key:
        problems.append("wsgi_tls_acme_eab_kid is set without wsgi_tls_acme_eab_hmac_key")
    if hmac_key and not kid:
        problems.append("wsgi_tls_acme_eab_hmac_key is set without wsgi_tls_acme_eab_kid")
    if hmac_key and not _BASE64URL.fullmatch(hmac_key):
        problems.append(
            "wsgi_tls_acme_eab_hmac_key is not a base64url key (its value is not shown)"
        )
    return problems


# certbot's lines around every error that say nothing about it.
_CERTBOT_BOILERPLATE = ("Saving debug log", "Ask for help", "See the logfile")


def tls_acme_failures(results: list[dict[str, Any]], directory: str) -> list[str]:
    lines = []
    for result in results or []:
        if "rc" not in result or result["rc"] == 0:
            continue  # issued, or not run (check mode)
        site = result.get("item") or {}
        said = [
            line.strip()
            for line in result.get("stderr_lines") or []
            if line.strip() and not line.startswith(_CERTBOT_BOILERPLATE)
        ]
        said = said or [f"exit status {result['rc']}"]
        lines.append(
            f"site '{site.get('name')}' ({', '.join(site.get('names') or [])}): no ACME "
            f"certificate from {directory}; certbot said: {' '.join(said[-3:])}"
        )
    return lines


def _text(path: str) -> str:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""


def tls_ca_ready(ca_dir: str) -> bool:
    ca_pem = _text(os.path.join(ca_dir, "ca.pem"))
    ca_key = _text(os.path.join(ca_dir, "ca.key"))
    if not ca_pem or not ca_key:
        return False
    try:
        names = describe(ca_pem)["names"]
    except ValueError:
        return False
    # The CA's own certificate: its key matches it and it signed itself.
    return issue_reason(ca_pem, ca_key, names, ca_pem, 0) == ""


def tls_local_pending(
    certs: list[dict[str, Any]], issued_dir: str, ca_dir: str, renew_days: int
) -> list[dict[str, Any]]:
    ca_pem = _text(os.path.join(ca_dir, "ca.pem"))
    pending = []
    for cert in certs:
        base = os.path.join(issued_dir, cert["name"])
        reason = issue_reason(
            _text(f"{base}.pem"), _text(f"{base}.key"), cert["names"], ca_pem, int(renew_days)
        )
        if reason:
            pending.append({**cert, "reason": reason})
    return pending


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "tls_errors": tls_errors,
            "tls_provided": tls_provided,
            "tls_local_certs": tls_local_certs,
            "tls_local_material": tls_local_material,
            "tls_files": tls_files,
            "tls_ocsp": tls_ocsp,
            "tls_acme_needed": tls_acme_needed,
            "tls_acme_errors": tls_acme_errors,
            "tls_acme_failures": tls_acme_failures,
            "tls_ca_ready": tls_ca_ready,
            "tls_local_pending": tls_local_pending,
        }
