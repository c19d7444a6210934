"""A throwaway PKI for the tests: a root CA, an intermediate, leaf certificates (also broken ones:
expired, for other names, with another key), written as PEM files.

    python tests/wsgi_testlib/pki.py DIR ZONE...   writes root.pem, inter.{pem,key},
        pebble.{pem,key} (Pebble's HTTPS certificate, name "pebble"), per zone
        poll.<zone>.{key,chain.pem} (naming the OCSP responder OCSP_URL in its AIA), and
        ocsp-index.txt: the intermediate's issued certificates in the index format of
        `openssl ocsp -index` (the responder the tls scenario runs beside Pebble)
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey
NOW = dt.datetime.now(dt.UTC)
# The OCSP responder of the intermediate's certificates (an `openssl ocsp` beside Pebble).
OCSP_URL = "http://pebble:8888/"


@dataclass
class Issued:
    cert: x509.Certificate
    key: Key

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str, parent: Issued | None = None) -> Issued:
    key = new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(parent.cert.subject if parent else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    )
    signer = parent.key if parent else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def issue(
    names: list[str],
    ca: Issued,
    *,
    days: tuple[int, int] = (-1, 90),
    key: Key | None = None,
    ocsp: str | None = None,
) -> Issued:
    """A leaf for `names`, valid from NOW+days[0] to NOW+days[1] (days, negative: the past);
    `ocsp`: the URL of its OCSP responder (Authority Information Access)."""
    key = key or new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    )
    if ocsp:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def ocsp_index(certs: list[x509.Certificate]) -> str:
    """`openssl ocsp -index` lines: every certificate valid ("V"), by serial and subject."""
    lines = []
    for cert in certs:
        expiry = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
        subject = "".join(f"/{a.rfc4514_string()}" for a in cert.subject)
        lines.append(f"V\t{expiry}\t\t{cert.serial_number:X}\tunknown\t{subject}\n")
    return "".join(lines)


def write(directory: Path, zones: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "root.pem").exists():
        return  # made once per scenario run: the deployed certificates must stay valid
    root = make_ca("wsgi-deploy test root")
    inter = make_ca("wsgi-deploy test intermediate", root)
    (directory / "root.pem").write_text(root.cert_pem)
    (directory / "root.key").write_text(root.key_pem)
    (directory / "inter.pem").write_text(inter.cert_pem)
    (directory / "inter.key").write_text(inter.key_pem)
    pebble = issue(["pebble"], root, days=(-1, 365))
    (directory / "pebble.pem").write_text(pebble.cert_pem)
    (directory / "pebble.key").write_text(pebble.key_pem)
    leaves = []
    for zone in zones:
        leaf = issue([f"poll.{zone}"], inter, ocsp=OCSP_URL)
        leaves.append(leaf.cert)
        (directory / f"poll.{zone}.chain.pem").write_text(leaf.cert_pem + inter.cert_pem)
        (directory / f"poll.{zone}.key").write_text(leaf.key_pem)
    (directory / "ocsp-index.txt").write_text(ocsp_index(leaves))
    for path in directory.glob("*.key"):
        path.chmod(0o600)


def load(directory: Path, name: str) -> Issued:
    """A CA written by write() (root, inter), to issue more certificates in a test."""
    cert = x509.load_pem_x509_certificate((directory / f"{name}.pem").read_bytes())
    key = serialization.load_pem_private_key((directory / f"{name}.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Issued(cert, key)


if __name__ == "__main__":
    write(Path(sys.argv[1]), sys.argv[2:])
