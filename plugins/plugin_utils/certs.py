"""What a certificate says, checked on the controller before any change (uses `cryptography`,
which ansible-core itself requires): the key matches the certificate, its names cover every name
of the site, it is valid now, and the chain is in order and complete.

  material_problems(chain_pem, key_pem, names, trusted_pem, now) -> problems (empty when fine)
  describe(chain_pem) -> {names, not_after, issuer, ocsp}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

try:  # a requirement of ansible-core itself; guarded so that the plugin loads without it
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID
except ImportError as exc:  # pragma: no cover - every supported controller has it
    MISSING: ImportError | None = exc
else:
    MISSING = None


def require() -> None:
    """Raise a clear error when `cryptography` is missing (checking certificates needs it)."""
    if MISSING is not None:
        raise RuntimeError(
            "checking TLS certificates needs the Python package 'cryptography' on the "
            f"controller (a requirement of ansible-core): {MISSING}"
        )


def load_chain(pem: str) -> list[x509.Certificate]:
    require()
    return x509.load_pem_x509_certificates(pem.encode())


def _name(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else cert.subject.rfc4514_string() or "(no subject)"


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [str(n).lower() for n in san.value.get_values_for_type(x509.DNSName)]


def covers(patterns: list[str], name: str) -> bool:
    """Whether a certificate's DNS names cover a host name (a wildcard covers one label)."""
    for pattern in patterns:
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _self_signed(cert: x509.Certificate) -> bool:
    return _issued_by(cert, cert)


def material_problems(
    chain_pem: str,
    key_pem: str,
    names: list[str],
    trusted_pem: str = "",
    now: dt.datetime | None = None,
) -> list[str]:
    now = now or dt.datetime.now(dt.UTC)
    require()
    try:
        chain = load_chain(chain_pem)
    except ValueError:
        return ["the certificate is not PEM (no certificate could be read from it)"]
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        return ["the key is not an unencrypted PEM private key"]
    leaf = chain[0]
    problems = []
    public = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*public) != leaf.public_key().public_bytes(*public):
        problems.append(f"the key does not match the certificate ({_name(leaf)})")
    patterns = dns_names(leaf)
    missing = [n for n in names if not covers(patterns, n)]
    if missing:
        problems.append(
            f"the certificate ({_name(leaf)}) does not cover {', '.join(missing)} "
            f"(it names: {', '.join(patterns) or 'no DNS name'})"
        )
    for index, cert in enumerate(chain, 1):
        if cert.not_valid_after_utc <= now:
            problems.append(
                f"certificate {index} of the chain ({_name(cert)}) expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d}"
            )
        elif cert.not_valid_before_utc > now:
            problems.append(
                f"certificate {index} of the chain ({_name(cert)}) is not valid before "
                f"{cert.not_valid_before_utc:%Y-%m-%d}"
            )
    for index in range(len(chain) - 1):
        if not _issued_by(chain[index], chain[index + 1]):
            problems.append(
                f"the chain is not in order: certificate {index + 2} ({_name(chain[index + 1])}) "
                f"did not issue certificate {index + 1} ({_name(chain[index])}); the leaf comes "
                "first, then each issuer"
            )
            return problems
    last = chain[-1]
    if not _self_signed(last):
        trusted = load_chain(trusted_pem) if "-----BEGIN CERTIFICATE" in trusted_pem else []
        if not any(_issued_by(last, ca) for ca in trusted):
            problems.append(
                f"the chain is incomplete: the issuer of {_name(last)} "
                f"({last.issuer.rfc4514_string()}) is neither in it nor a trusted CA"
            )
    return problems


def describe(chain_pem: str) -> dict[str, Any]:
    leaf = load_chain(chain_pem)[0]
    ocsp = []
    try:
        aia = leaf.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
        ocsp = [
            str(d.access_location.value)
            for d in aia.value
            if d.access_method == AuthorityInformationAccessOID.OCSP
        ]
    except x509.ExtensionNotFound:
        pass
    return {
        "names": dns_names(leaf),
        "not_after": leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issuer": leaf.issuer.rfc4514_string(),
        "ocsp": bool(ocsp),
    }


def issue_reason(
    cert_pem: str,
    key_pem: str,
    names: list[str],
    ca_pem: str,
    renew_days: int,
    now: dt.datetime | None = None,
) -> str:
    """Why a certificate the local CA issues must be issued (again), or "" when the one on disk
    stands: its key matches it, it names exactly `names`, the CA in `ca_pem` issued it and it is
    valid for more than `renew_days` days."""
    now = now or dt.datetime.now(dt.UTC)
    if not cert_pem or not key_pem:
        return "missing"
    try:
        leaf = load_chain(cert_pem)[0]
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        ca = load_chain(ca_pem)[0]
    except (ValueError, TypeError, IndexError):
        return "unreadable"
    public = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*public) != leaf.public_key().public_bytes(*public):
        return "key mismatch"
    if sorted(dns_names(leaf)) != sorted(n.lower() for n in names):
        return "names changed"
    if not _issued_by(leaf, ca):
        return "another CA"
    if (leaf.not_valid_after_utc - now).days < renew_days:
        return "expires soon"
    return ""
