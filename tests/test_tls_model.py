"""Unit tests of the TLS fields (plugins/module_utils/tls.py through the site model) and of the
certificate checks run on the controller before any change (plugins/plugin_utils/certs.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from wsgi_testlib import pki

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
model = importlib.import_module("module_utils.site_model")
certs = importlib.import_module("plugin_utils.certs")


@pytest.fixture()
def settings(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hello.wsgi").write_text("def application(e, s): pass\n")
    return {"source_base_dir": str(tmp_path), "default_stack": "apache_mod_wsgi"}


def site(**over: Any) -> dict[str, Any]:
    return {"name": "hello", "domain": "a.example.org", "aliases": ["www.a.example.org"],
            "source": {"path": "hello"}, "entry": "hello.wsgi", **over}  # fmt: skip


@pytest.mark.parametrize(
    ("over", "field", "part"),
    [
        ({"tls": "https"}, "tls", "is not one of"),
        ({"tls": {"mode": "provided"}}, "tls.cert", "needs 'cert'"),
        ({"tls": {"mode": "provided", "cert": "x", "key_file": "k.pem"}}, "tls.cert", "PEM"),
        ({"tls": {"mode": "acme", "cert_file": "c.pem"}}, "tls.cert_file", "only for mode"),
        ({"tls": {"mode": "acme", "hsts": {"max_age": -1}}}, "tls.hsts.max_age", ">= 0"),
        ({"tls": {"mode": "acme", "hsts": {"preload": True}}}, "tls.hsts.preload", "needs"),
        ({"tls": {"mode": "acme", "ocsp": True}}, "tls.ocsp", "unknown option"),
        ({"headers": {"Bad Name": "x"}}, "headers", "not a valid header name"),
        ({"headers": {"X-A": 'say "hi"'}}, "headers.X-A", "printable ASCII"),
        ({"headers": {"X-A": "a\nInjected: 1"}}, "headers.X-A", "single line"),
        ({"headers": {"X-A": "${HOME}"}}, "headers.X-A", "printable ASCII"),
        ({"headers": {"Strict-Transport-Security": "max-age=1"}}, "headers.Strict", "collection"),
    ],
)
def test_bad_tls_fields_are_refused(
    settings: dict[str, Any], over: dict, field: str, part: str
) -> None:
    errors = model.wsgi_site_errors([site(**over)], settings)
    assert any(f"field '{field}" in e and part in e for e in errors), errors


def test_a_bad_host_default_is_refused(settings: dict[str, Any]) -> None:
    errors = model.wsgi_site_errors([site()], {**settings, "tls": "on"})
    assert any(e.startswith("wsgi_tls: 'on'") for e in errors), errors


def test_tls_is_normalised(settings: dict[str, Any]) -> None:
    plain, secure, strict = model.wsgi_site_normalize(
        [site(), site(name="b", domain="b.example.org", tls="acme"),
         site(name="c", domain="c.example.org", tls={"mode": "self_signed", "hsts": {
             "max_age": 63072000, "include_subdomains": True, "preload": True}})],
        {**settings, "tls_dir": "/etc/tls"},
    )  # fmt: skip
    assert plain["tls"]["enabled"] is False and plain["tls"]["hsts"] == ""
    assert secure["tls"] == {
        "mode": "acme", "enabled": True, "dir": "/etc/tls/b", "cert": "/etc/tls/b/fullchain.pem",
        "key": "/etc/tls/b/privkey.pem", "hsts": "max-age=31536000", "cert_file": None,
        "key_file": None,
    }  # fmt: skip
    assert strict["tls"]["hsts"] == "max-age=63072000; includeSubDomains; preload"
    # The host default applies to a site without `tls`; a site's own wins.
    (default,) = model.wsgi_site_normalize([site()], {**settings, "tls": "self_signed"})
    assert default["tls"]["mode"] == "self_signed"


# ------------------------------------------------------------------------ certificate checks

ROOT_CA = pki.make_ca("unit root")
INTER = pki.make_ca("unit intermediate", ROOT_CA)
NAMES = ["a.example.org", "www.a.example.org"]


def _problems(chain: str, key: str, names: list[str] = NAMES) -> list[str]:
    return certs.material_problems(chain, key, names, ROOT_CA.cert_pem)


def test_a_good_chain_passes() -> None:
    leaf = pki.issue(NAMES, INTER)
    assert _problems(leaf.cert_pem + INTER.cert_pem, leaf.key_pem) == []
    wildcard = pki.issue(["*.example.org", "example.org"], INTER)
    assert _problems(wildcard.cert_pem + INTER.cert_pem, wildcard.key_pem, ["a.example.org"]) == []


def _pair(leaf: pki.Issued, *chain: pki.Issued) -> tuple[str, str]:
    return leaf.cert_pem + "".join(c.cert_pem for c in chain), leaf.key_pem


def _cases() -> list[tuple[str, tuple[str, str], str]]:
    good = pki.issue(NAMES, INTER)
    leaf = pki.issue(NAMES, INTER)
    return [
        ("mismatched key", (good.cert_pem + INTER.cert_pem, pki.issue(NAMES, INTER).key_pem),
         "the key does not match"),
        ("name not covered", _pair(pki.issue(["a.example.org"], INTER), INTER),
         "does not cover www.a.example.org"),
        ("expired", _pair(pki.issue(NAMES, INTER, days=(-20, -2)), INTER), "expired on"),
        ("not yet valid", _pair(pki.issue(NAMES, INTER, days=(3, 90)), INTER),
         "is not valid before"),
        ("wrong order", (INTER.cert_pem + leaf.cert_pem, leaf.key_pem), "not in order"),
        ("incomplete", _pair(pki.issue(NAMES, INTER)), "the chain is incomplete"),
        ("not PEM", ("not a certificate", good.key_pem), "is not PEM"),
        ("encrypted or no key", (good.cert_pem, "garbage"), "not an unencrypted PEM private key"),
    ]  # fmt: skip


@pytest.mark.parametrize(("label", "material", "part"), _cases(), ids=[c[0] for c in _cases()])
def test_bad_material_is_named(label: str, material: tuple[str, str], part: str) -> None:
    problems = _problems(*material)
    assert any(part in p for p in problems), (label, problems)


# ------------------------------------------------------- what the local CA must issue again

OTHER_CA = pki.make_ca("another local CA")


@pytest.mark.parametrize(
    ("label", "material", "names", "reason"),
    [
        ("stands", lambda c: (c.cert_pem, c.key_pem), NAMES, ""),
        ("missing", lambda c: ("", c.key_pem), NAMES, "missing"),
        ("unreadable", lambda c: ("garbage", c.key_pem), NAMES, "unreadable"),
        (
            "other key",
            lambda c: (c.cert_pem, pki.issue(NAMES, ROOT_CA).key_pem),
            NAMES,
            "key mismatch",
        ),
        (
            "a name added",
            lambda c: (c.cert_pem, c.key_pem),
            [*NAMES, "b.example.org"],
            "names changed",
        ),
    ],  # fmt: skip
)
def test_issue_reason(label: str, material: Any, names: list[str], reason: str) -> None:
    current = pki.issue(NAMES, ROOT_CA)
    cert_pem, key_pem = material(current)
    assert certs.issue_reason(cert_pem, key_pem, names, ROOT_CA.cert_pem, 30) == reason, label


def test_issue_reason_another_ca_and_expiry() -> None:
    mine = pki.issue(NAMES, ROOT_CA)
    assert certs.issue_reason(mine.cert_pem, mine.key_pem, NAMES, OTHER_CA.cert_pem, 30) == (
        "another CA"
    )
    short = pki.issue(NAMES, ROOT_CA, days=(-1, 20))
    assert certs.issue_reason(short.cert_pem, short.key_pem, NAMES, ROOT_CA.cert_pem, 30) == (
        "expires soon"
    )
    assert certs.issue_reason(short.cert_pem, short.key_pem, NAMES, ROOT_CA.cert_pem, 10) == ""


def test_pending_local_certificates(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "collections"))
    tls = importlib.import_module("ansible_collections.wsgi.deploy.plugins.filter.tls")
    ca_dir, issued = tmp_path / "ca", tmp_path / "ca" / "issued" / "host"
    issued.mkdir(parents=True)
    assert tls.tls_ca_ready(str(ca_dir)) is False
    (ca_dir / "ca.pem").write_text(ROOT_CA.cert_pem)
    (ca_dir / "ca.key").write_text(OTHER_CA.key_pem)
    assert tls.tls_ca_ready(str(ca_dir)) is False  # a key that is not the CA's
    (ca_dir / "ca.key").write_text(ROOT_CA.key_pem)
    assert tls.tls_ca_ready(str(ca_dir)) is True
    wanted = [{"name": "_default", "names": ["host.example"]}, {"name": "a", "names": NAMES}]
    done = pki.issue(NAMES, ROOT_CA)
    (issued / "a.pem").write_text(done.cert_pem)
    (issued / "a.key").write_text(done.key_pem)
    pending = tls.tls_local_pending(wanted, str(issued), str(ca_dir), 30)
    assert pending == [{"name": "_default", "names": ["host.example"], "reason": "missing"}]


def _tls_filters() -> Any:
    sys.path.insert(0, str(ROOT / "collections"))
    return importlib.import_module("ansible_collections.wsgi.deploy.plugins.filter.tls")


HMAC = "c2VjcmV0LWhtYWMta2V5LW9mLTMyLWJ5dGVzLWxvbmc"


@pytest.mark.parametrize(
    ("settings", "part"),
    [
        ({"directory": "http://ca.example/dir"}, "wsgi_tls_acme_directory 'http://ca.example/dir'"),
        ({"directory": "https://ca.example/dir\n--staging"}, "is not an https:// URL"),
        ({"directory": "https:///dir"}, "is not an https:// URL"),
        ({"email": "ops@example.org\n--x"}, "is not an email address"),
        ({"email": "ops@example.org,not an address"}, "'not an address' is not an email"),
        ({"eab_kid": "kid 1", "eab_hmac_key": HMAC}, "wsgi_tls_acme_eab_kid is not a key id"),
        ({"eab_kid": "kid-1"}, "is set without wsgi_tls_acme_eab_hmac_key"),
        ({"eab_hmac_key": HMAC}, "is set without wsgi_tls_acme_eab_kid"),
        ({"eab_kid": "kid-1", "eab_hmac_key": HMAC + "\neab-kid = x"}, "not a base64url key"),
    ],
)
def test_bad_acme_settings_are_named(settings: dict[str, Any], part: str) -> None:
    problems = _tls_filters().tls_acme_errors(settings)
    assert any(part in p for p in problems), problems
    assert not any(HMAC in p for p in problems)  # the key's value is never in a message


def test_good_acme_settings_pass() -> None:
    tls = _tls_filters()
    assert tls.tls_acme_errors({}) == []
    unset = {"directory": "", "email": "", "eab_kid": "", "eab_hmac_key": ""}
    assert tls.tls_acme_errors(unset) == []
    good = {"directory": "https://acme.zerossl.com/v2/DV90", "eab_kid": "kid_1-x",
            "email": "a@example.org, b@example.org", "eab_hmac_key": HMAC}  # fmt: skip
    assert tls.tls_acme_errors(good) == []


def test_acme_failures_name_the_site_and_what_certbot_said() -> None:
    results = [
        {"item": {"name": "shop", "names": ["shop.example", "www.shop.example"]}, "rc": 1,
         "stderr_lines": ["Saving debug log to /var/log/letsencrypt/letsencrypt.log",
                          "Unable to register an account with ACME server. Server requires "
                          "external account binding.", "",
                          "Ask for help or search for solutions at https://community.letsencrypt.org",
                          "See the logfile /var/log/letsencrypt/letsencrypt.log or re-run"]},
        {"item": {"name": "ok", "names": ["ok.example"]}, "rc": 0, "stderr_lines": []},
        {"item": {"name": "checked", "names": ["c.example"]}, "skipped": True},
    ]  # fmt: skip
    lines = _tls_filters().tls_acme_failures(results, "https://ca.example/dir")
    assert lines == [
        "site 'shop' (shop.example, www.shop.example): no ACME certificate from "
        "https://ca.example/dir; certbot said: Unable to register an account with ACME server. "
        "Server requires external account binding."
    ]
