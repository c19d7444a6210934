"""Unit tests of the pure modules: redaction, run spec, argspec, inventory, history, matrix."""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
import weakref
from dataclasses import replace
from pathlib import Path

import pytest
from ansible_runner.config.runner import RunnerConfig

from wsgi_console.__main__ import build_parser
from wsgi_console.argspec import has_errors, load_argument_specs, validate_extra_vars
from wsgi_console.events import RunAggregate
from wsgi_console.gcguard import GcGuard
from wsgi_console.history import History
from wsgi_console.inventory import (
    DEFAULT_STACK,
    inventory_signature,
    load_inventory,
    parse_inventory_json,
    parse_sites,
)
from wsgi_console.matrix import build_matrix, sites_for_run
from wsgi_console.paths import default_data_dir, find_project_dir
from wsgi_console.redact import MASK, Redactor
from wsgi_console.runspec import Action, RunSpec, SpecError, has_masked_values, parse_extra_vars
from wsgi_console.switch import stack_switch_problems

from .conftest import BROKEN_INV, DEMO_INV, PROD_INV, PROJECT, load_events

# -- redaction ---------------------------------------------------------------------------------


def test_redactor_masks_by_key_and_by_value() -> None:
    red = Redactor(["hunter2-secret"])
    data = {
        "msg": "password is hunter2-secret!",
        "secrets": {"db": "x", "api": "y"},
        "db_password": "abc",
        "nested": [{"api_token": "t"}, "hunter2-secret"],
        "ok": 3,
    }
    out = red.data(data)
    assert out["msg"] == f"password is {MASK}!"
    assert out["secrets"] == {"db": MASK, "api": MASK}
    assert out["db_password"] == MASK
    assert out["nested"] == [{"api_token": MASK}, MASK]
    assert out["ok"] == 3
    assert data["db_password"] == "abc"  # a copy


def test_redactor_ignores_short_values() -> None:
    assert Redactor(["ab"]).text("abc") == "abc"


# -- run spec -----------------------------------------------------------------------------------


def spec(**kwargs: object) -> RunSpec:
    base: dict[str, object] = {"inventory": str(DEMO_INV), "project_dir": str(PROJECT)}
    base.update(kwargs)
    return RunSpec(**base)  # type: ignore[arg-type]


def test_action_vars_follow_the_playbook_contract() -> None:
    assert spec(action=Action.DEPLOY_SITES, sites=("a", "b")).action_vars() == {
        "wsgi_only_sites": ["a", "b"]
    }
    assert spec(action=Action.REMOVE_SITE, sites=("a",)).action_vars() == {"wsgi_remove_site": "a"}
    assert spec(action=Action.REMOVE_SITE, sites=("a",)).playbook == "playbooks/remove_site.yml"
    switch = spec(action=Action.SWITCH_STACK, sites=("a",), stack="nginx_gunicorn")
    assert switch.action_vars() == {
        "wsgi_only_sites": ["a"],
        "wsgi_stack_overrides": {"a": "nginx_gunicorn"},
    }
    assert switch.playbook == "site.yml"
    both = spec(action=Action.SWITCH_STACK, sites=("a", "b"), stack="apache_mod_wsgi")
    assert both.validate() == []
    assert both.action_vars() == {
        "wsgi_only_sites": ["a", "b"],
        "wsgi_stack_overrides": {"a": "apache_mod_wsgi", "b": "apache_mod_wsgi"},
    }


def test_a_stack_switch_must_take_every_site_of_its_hosts() -> None:
    inv = load_inventory(DEMO_INV)
    hosts = inv.target_hosts(None)
    problems = stack_switch_problems(inv, hosts, ("hello",), "nginx_gunicorn")
    # demo-web1 and demo-edge1 serve hello and shop; demo-web2 serves only blog (not concerned).
    assert len(problems) == 2 and all("also serves shop" in p for p in problems), problems
    assert not [p for p in problems if "demo-web2" in p]
    assert stack_switch_problems(inv, hosts, ("hello", "shop"), "nginx_gunicorn") == []
    assert stack_switch_problems(inv, ["demo-web2"], ("blog",), "nginx_gunicorn") == []


def test_validate_spec() -> None:
    assert spec().validate() == []
    assert spec(action=Action.DEPLOY_SITES).validate()
    assert spec(action=Action.REMOVE_SITE, sites=("a", "b")).validate()
    assert spec(action=Action.SWITCH_STACK, sites=("a",), stack="bogus").validate()


def test_runner_kwargs() -> None:
    s = spec(targets=("web", "demo-edge1"), tags=("app", "venv"), verbosity=2, extra_vars={"x": 1})
    kwargs = s.runner_kwargs()
    assert kwargs["quiet"] is True and kwargs["suppress_env_files"] is True
    assert kwargs["limit"] == "web:demo-edge1"
    assert kwargs["tags"] == "app,venv"
    assert kwargs["cmdline"] == "--check --diff"
    assert kwargs["extravars"] == {"x": 1}
    assert kwargs["playbook"].endswith("site.yml")


@pytest.mark.parametrize(
    "s",
    [
        spec(),
        spec(check=False, diff=False),
        spec(
            action=Action.DEPLOY_SITES,
            sites=("hello",),
            targets=("web",),
            tags=("app",),
            verbosity=3,
            extra_vars={"apache_listen_port": 8080, "msg": "a b"},
        ),
    ],
)
def test_argv_is_what_ansible_runner_runs(s: RunSpec, tmp_path: Path) -> None:
    kwargs = s.runner_kwargs()
    kwargs.pop("quiet")
    rc = RunnerConfig(private_data_dir=str(tmp_path), **kwargs)
    rc.prepare()
    assert rc.command == s.argv(executable="ansible-playbook")


def test_command_line_redacts_secrets() -> None:
    s = spec(extra_vars={"db_password": "pw-123456", "note": "uses tok-abcdef"})
    line = s.command_line(Redactor(["tok-abcdef"]))
    assert "pw-123456" not in line and "tok-abcdef" not in line
    assert MASK in line
    assert line.startswith("ansible-playbook --check --diff -i ")


def test_spec_round_trip_and_variations() -> None:
    s = spec(action=Action.DEPLOY_SITES, sites=("a",), targets=("web",), extra_vars={"k": 1})
    assert RunSpec.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert s.as_apply().check is False and s.as_apply().mode == "apply"
    assert s.with_targets(["x"]).limit == "x"
    stored = s.__class__.from_dict(spec(extra_vars={"api_token": "z"}).to_dict())
    assert has_masked_values(stored.extra_vars)


def test_parse_extra_vars() -> None:
    assert parse_extra_vars("") == {}
    assert parse_extra_vars("a=1 b=true c='x y' d='[1, 2]'") == {
        "a": 1,
        "b": True,
        "c": "x y",
        "d": [1, 2],
    }
    assert parse_extra_vars('{"a": {"b": 1}}') == {"a": {"b": 1}}
    assert parse_extra_vars("a: 1\nb: two") == {"a": 1, "b": "two"}
    for bad in ("[1, 2]", "1-bad=3", "a: [", "justaword"):
        with pytest.raises(SpecError):
            parse_extra_vars(bad)


# -- argument specs -----------------------------------------------------------------------------


def test_argspec_validation() -> None:
    specs = load_argument_specs(PROJECT / "roles")
    assert {"wsgi_sites", "apache_listen_port", "wsgi_default_stack"} <= set(specs.options)
    assert validate_extra_vars({"apache_listen_port": 8080}, specs) == []
    assert validate_extra_vars({"apache_listen_port": "8080"}, specs) == []
    issues = validate_extra_vars({"apache_listen_port": "eighty"}, specs)
    assert has_errors(issues)
    issues = validate_extra_vars({"wsgi_default_stack": "lighttpd"}, specs)
    assert has_errors(issues) and "not one of" in issues[0].message
    issues = validate_extra_vars({"nobody_declares_me": 1}, specs)
    assert not has_errors(issues) and issues[0].level == "warning"
    issues = validate_extra_vars({"apache_enable_status": "yes"}, specs)
    assert issues == []
    issues = validate_extra_vars({"wsgi_sites": [{"domain": "x"}]}, specs)
    assert has_errors(issues) and issues[0].path == "wsgi_sites[0].name"
    issues = validate_extra_vars({"wsgi_sites": [{"name": "a", "stack": "bad"}]}, specs)
    assert has_errors(issues)
    issues = validate_extra_vars({"wsgi_sites": "notalist-but-str"}, specs)
    assert not has_errors(issues)
    assert has_errors(validate_extra_vars({"wsgi_sites": {"a": 1}}, specs))


def test_argspec_missing_dir() -> None:
    assert load_argument_specs("/nonexistent").options == {}


# -- inventory ----------------------------------------------------------------------------------


def test_load_demo_inventory() -> None:
    inv = load_inventory(DEMO_INV)
    assert inv.ok, inv.errors
    assert inv.name == "demo" and inv.environment == "demo" and not inv.is_production
    assert set(inv.hosts) == {"demo-web1", "demo-web2", "demo-edge1"}
    assert inv.group_hosts("wsgi_servers") == ["demo-web1", "demo-web2", "demo-edge1"]
    web1 = inv.hosts["demo-web1"]
    assert [s.name for s in web1.sites] == ["hello", "shop"]
    hello = web1.sites[0]
    assert (hello.stack, hello.mode, hello.processes, hello.threads) == (
        "apache_mod_wsgi",
        "daemon",
        2,
        4,
    )
    assert web1.sites[1].stack == "nginx_gunicorn" and web1.sites[1].path == "/test"
    # Host-level default stack applies to sites without a stack.
    assert inv.hosts["demo-edge1"].sites[0].stack == "nginx_gunicorn"
    # Host-level wsgi_sites overrides the group's.
    assert [s.name for s in inv.hosts["demo-web2"].sites] == ["blog"]
    assert "wsgi_servers" in web1.groups and "web" in web1.groups


def test_inventory_secrets_are_collected_and_redacted() -> None:
    inv = load_inventory(DEMO_INV)
    assert {"hello-token-abcdef", "shop-db-pass-999", "blog-very-secret-key-123"} <= (
        inv.secret_values
    )
    dumped = json.dumps({h.name: h.vars for h in inv.hosts.values()})
    for value in inv.secret_values:
        assert value not in dumped
    assert inv.hosts["demo-web1"].sites[0].secret_keys == ("api_token",)


def test_production_inventory() -> None:
    inv = load_inventory(PROD_INV)
    assert inv.is_production and inv.name == "production"


def test_inventory_errors_are_values() -> None:
    broken = load_inventory(BROKEN_INV)
    assert broken.errors and not broken.hosts
    missing = load_inventory("/nonexistent/inventory")
    assert missing.errors == ["inventory not found: /nonexistent/inventory"]
    odd = parse_inventory_json(
        {
            "_meta": {"hostvars": {"h": {"wsgi_sites": "nope"}, "g": {"wsgi_sites": [{"x": 1}]}}},
            "all": {"children": ["ungrouped"]},
            "ungrouped": {"hosts": ["h", "g"]},
        },
        "x",
    )
    assert odd.hosts["h"].sites == [] and odd.hosts["g"].sites == []
    assert "h: wsgi_sites is a str, expected a list" in odd.warnings
    assert "g: wsgi_sites[0] has no name" in odd.warnings
    # The collection's own site model validates the sites, with its messages.
    assert "g: site #1: field 'name': is required" in odd.warnings


def test_the_console_uses_the_collections_site_model() -> None:
    """Stack resolution with wsgi_stack_overrides and run modes come from the collection's site
    model (plugins/module_utils), not from a copy in the console."""
    sites = [
        {"name": "a", "domain": "a.example.test", "source": {"git": "https://g.example/a.git"},
         "entry": "a:app"},
        {"name": "b", "domain": "b.example.test", "source": {"git": "https://g.example/b.git"},
         "entry": "b:app", "mod_wsgi": {"mode": "embedded"}},
    ]  # fmt: skip
    inv = parse_inventory_json(
        {
            "_meta": {
                "hostvars": {
                    "h": {"wsgi_sites": sites, "wsgi_stack_overrides": {"a": "nginx_gunicorn"}},
                    "bad": {"wsgi_sites": [dict(sites[0], domain="Not A Domain")]},
                }
            },
            "all": {"children": ["ungrouped"]},
            "ungrouped": {"hosts": ["h", "bad"]},
        },
        "x",
    )
    a, b = inv.hosts["h"].sites
    assert (a.stack, a.resolved_mode) == ("nginx_gunicorn", "")
    assert (b.stack, b.resolved_mode) == ("apache_mod_wsgi", "embedded")
    # The override puts the two sites on two stacks: the model's cross-site check says so.
    assert any("field 'stack'" in w and "same stack" in w for w in inv.hosts["h"].site_errors)
    assert any(
        "field 'domain': 'Not A Domain' is not a valid lower-case domain name" in w
        for w in inv.hosts["bad"].site_errors
    )


def test_hosts_with_the_same_sites_are_parsed_once_and_alike() -> None:
    """Sites parsed once per distinct (sites, settings) give, host by host, what parsing each
    host's sites alone gives: stacks from each host's own default, errors named per host, the
    hosts' sites independent objects."""
    sites = [
        {"name": "a", "domain": "a.test", "source": {"git": "https://g.example/a.git"},
         "entry": "a:app", "secrets": {"token": "s3cret-a"}},
        {"name": "b", "domain": "b.test", "source": {"git": "https://g.example/b.git"},
         "entry": "b:app", "stack": "apache_mod_wsgi", "mod_wsgi": {"mode": "x"}},
    ]  # fmt: skip
    hostvars = {
        f"h{i}": {
            "wsgi_sites": sites,
            **({"wsgi_default_stack": "nginx_gunicorn"} if i % 2 else {}),
        }
        for i in range(6)
    }
    hostvars["h5"] = {"wsgi_sites": sites[:1]}
    data = {"_meta": {"hostvars": hostvars}, "all": {"children": ["ungrouped"]},
            "ungrouped": {"hosts": list(hostvars)}}  # fmt: skip
    inv = parse_inventory_json(data, "x")
    assert inv.secret_values >= {"s3cret-a"}
    for name, hv in hostvars.items():
        alone = parse_sites(hv["wsgi_sites"], hv.get("wsgi_default_stack", DEFAULT_STACK), hv)
        assert inv.hosts[name].sites == alone[0], name
        assert inv.hosts[name].site_errors == [f"{name}: {p}" for p in alone[1]], name
    assert {s.stack for s in inv.hosts["h1"].sites} == {"nginx_gunicorn", "apache_mod_wsgi"}
    assert {s.stack for s in inv.hosts["h0"].sites} == {"apache_mod_wsgi"}
    assert inv.hosts["h0"].sites is not inv.hosts["h2"].sites


def test_patterns_filter_and_targets() -> None:
    inv = load_inventory(DEMO_INV)
    assert inv.resolve("web") == ["demo-web1", "demo-web2"]
    assert inv.resolve("web:!demo-web1") == ["demo-web2"]
    assert inv.resolve("demo-*:&edge") == ["demo-edge1"]
    assert inv.resolve("demo-web1,demo-edge1") == ["demo-web1", "demo-edge1"]
    assert inv.resolve("nothing") == []
    assert inv.target_hosts(None) == ["demo-web1", "demo-web2", "demo-edge1"]
    assert inv.target_hosts("edge") == ["demo-edge1"]
    hits = inv.filter("shop")
    assert {h for rows in hits.values() for h, _ in rows} == {"demo-web1", "demo-edge1"}
    assert all(s.name == "shop" for rows in hits.values() for _, sites in rows for s in sites)
    assert set(inv.filter("edge")) == {"edge"}
    assert inv.filter("zzz-no-match") == {}
    assert inv.filter("blog.demo")["web"][0][0] == "demo-web2"


def test_inventory_signature_changes(tmp_path: Path) -> None:
    inv_dir = tmp_path / "inv"
    shutil.copytree(DEMO_INV, inv_dir)
    before = inventory_signature(inv_dir)
    target = inv_dir / "hosts.yml"
    target.write_text(target.read_text() + "\n# changed\n")
    assert inventory_signature(inv_dir) != before


# -- history & matrix ---------------------------------------------------------------------------


def test_history_round_trip_and_redaction(tmp_path: Path) -> None:
    hist = History(tmp_path / "h.sqlite3")
    red = Redactor(["s3cr3t-value"])
    s = spec(extra_vars={"db_password": "s3cr3t-value"})
    hist.start_run("r1", s, "demo", s.command_line(red), red, started=1000.0, user="ops")
    events = load_events("mixed")
    events.append({"event": "verbose", "stdout": "leak s3cr3t-value", "uuid": "x"})
    seq = hist.add_events("r1", events[:30], red, 0)
    seq = hist.add_events("r1", events[30:], red, seq)
    agg = RunAggregate()
    agg.add_many(events)
    hist.finish_run("r1", "failed", 2, agg, finished=1010.0)
    record = hist.get_run("r1")
    assert record is not None
    assert (record.user, record.mode, record.status, record.event_count) == (
        "ops",
        "check",
        "failed",
        len(events),
    )
    assert record.failed_hosts() == ["ghost", "local2"]
    assert record.spec.extra_vars == {"db_password": MASK}
    assert "failed" in record.result
    replayed = list(hist.iter_events("r1", batch=10))
    assert len(replayed) == len(events)
    again = RunAggregate()
    again.add_many(replayed)
    assert again.matches_stats()
    raw = (tmp_path / "h.sqlite3").read_bytes()
    hist.close()
    assert b"s3cr3t-value" not in raw
    assert oct(os.stat(tmp_path / "h.sqlite3").st_mode & 0o777) == "0o600"


def test_history_interrupted_and_listing(tmp_path: Path) -> None:
    hist = History(tmp_path / "h.sqlite3")
    red = Redactor()
    hist.start_run("a", spec(), "demo", "cmd", red, started=1.0)
    hist.start_run("b", spec(), "demo", "cmd", red, started=2.0)
    assert [r.id for r in hist.list_runs()] == ["b", "a"]
    assert hist.mark_interrupted() == 2
    assert hist.get_run("a").status == "interrupted"  # type: ignore[union-attr]
    assert hist.get_run("zzz") is None


def test_matrix_last_successful_deploys(tmp_path: Path) -> None:
    inv = load_inventory(DEMO_INV)
    hist = History(tmp_path / "h.sqlite3")
    red = Redactor()
    apply = spec(check=False)
    hosts = inv.target_hosts(None)
    sites = sites_for_run(inv, apply, hosts)
    assert sites["demo-web1"] == [("hello", "apache_mod_wsgi"), ("shop", "nginx_gunicorn")]
    hist.start_run("r1", apply, "demo", "c", red, sites=sites, started=100.0)
    agg = RunAggregate()
    agg.add(
        {
            "event": "playbook_on_stats",
            "event_data": {
                "ok": {h: 3 for h in hosts},
                "failures": {"demo-web2": 1},
                "processed": {h: 1 for h in hosts},
            },
        }
    )
    hist.finish_run("r1", "failed", 2, agg, finished=200.0)
    # A check run never counts as a deploy.
    check = spec()
    hist.start_run("r2", check, "demo", "c", red, sites=sites_for_run(inv, check, hosts))
    hist.finish_run("r2", "successful", 0, agg, finished=300.0)
    switch = spec(check=False, action=Action.SWITCH_STACK, sites=("hello",), stack="nginx_gunicorn")
    switch_sites = sites_for_run(inv, switch, ["demo-web1"])
    assert switch_sites == {"demo-web1": [("hello", "nginx_gunicorn")]}
    deploys = hist.last_deploys(str(DEMO_INV))
    assert deploys[("demo-web1", "hello")] == (200.0, "r1", "apache_mod_wsgi")
    assert ("demo-web2", "blog") not in deploys  # that host failed
    matrix = build_matrix(inv, deploys)
    site_names, cells = matrix.sites, matrix.cells
    assert site_names == ["hello", "shop", "blog"]
    assert cells[("demo-web1", "hello")].last_run == "r1"
    assert cells[("demo-web2", "blog")].last_deploy is None
    assert not cells[("demo-web1", "hello")].drift
    assert sites_for_run(inv, spec(action=Action.REMOVE_SITE, sites=("hello",)), hosts) == {}


# -- paths & CLI -----------------------------------------------------------------------------------


def test_default_data_dir() -> None:
    assert default_data_dir({"WSGI_CONSOLE_DATA_DIR": "/x"}) == Path("/x")
    assert default_data_dir({"XDG_DATA_HOME": "/d"}) == Path("/d/wsgi-console")
    assert default_data_dir({}).parts[-3:] == (".local", "share", "wsgi-console")


def test_find_project_dir() -> None:
    assert find_project_dir(PROJECT / "playbooks") == PROJECT


def test_cli_parser() -> None:
    args = build_parser().parse_args(["-i", "inventory/production", "--data-dir", "/tmp/x"])
    assert args.inventory == "inventory/production" and args.data_dir == "/tmp/x"
    with pytest.raises(SystemExit):
        build_parser().parse_args([])


# -- garbage collector guard -------------------------------------------------------------------


def test_gc_guard_freezes_survivors_only_while_runs_are_active() -> None:
    guard = GcGuard(slow_pass=0.0, hold=0.2)  # every full pass counts as slow
    frozen_before = gc.get_freeze_count()
    guard.install()
    try:
        gc.collect()
        assert guard.freezes == 0 and gc.get_freeze_count() == frozen_before
        guard.run_started()  # freezes what exists when a run starts
        assert guard.freezes == 1 and gc.get_freeze_count() > frozen_before
        guard.run_started()  # still the same run: nothing more
        assert guard.freezes == 1
        garbage = [[]]
        garbage[0].append(garbage)  # a cycle made during the run
        del garbage
        gc.collect()  # a "slow" full pass: its survivors are frozen too
        assert guard.freezes == 2
        guard.runs_over()
        guard.tick()  # held a moment: the end of a run is not when to walk it all
        assert guard.freezes == 2 and gc.get_freeze_count() > frozen_before
        time.sleep(0.25)
        guard.tick()
        assert guard.freezes == 0 and gc.get_freeze_count() == 0
    finally:
        guard.uninstall()
    assert guard._callback not in gc.callbacks


def test_gc_guard_settles_a_big_model_and_releases_it_after_the_next_run() -> None:
    """A freshly loaded big model is frozen out of full passes (after one collection, so no
    cyclic garbage of the load is frozen with it) and handed back after the next run."""
    guard = GcGuard(slow_pass=10.0, hold=0.1)  # no pass counts as slow here
    guard.install()
    gc.disable()  # no automatic pass between the load and the settle
    try:
        cycle: list[object] = []
        cycle.append(cycle)
        probe = weakref.ref(_Cyclic(cycle))  # garbage of the load, only reachable by a cycle
        guard.settle()
        gc.enable()
        assert probe() is None  # collected before the freeze, not frozen with the model
        assert guard.freezes == 1 and gc.get_freeze_count() > 0
        guard.tick()  # no run yet: the model stays frozen
        assert guard.freezes == 1
        guard.run_started()
        guard.runs_over()
        time.sleep(0.15)
        guard.tick()
        assert guard.freezes == 0 and gc.get_freeze_count() == 0
    finally:
        gc.enable()
        guard.uninstall()


class _Cyclic:
    def __init__(self, other: object) -> None:
        self.me = self
        self.other = other


def test_rollback_runs_the_rollback_playbook_with_its_sites_and_release() -> None:
    spec = RunSpec(inventory="inv", project_dir="/p", action=Action.ROLLBACK, sites=("guestbook",))
    assert spec.playbook == "playbooks/rollback.yml"
    assert spec.all_extra_vars() == {"wsgi_rollback_sites": ["guestbook"]}
    pinned = replace(spec, release="20261201T120000Z-3f2a9c1b")
    assert pinned.all_extra_vars()["wsgi_rollback_to"] == "20261201T120000Z-3f2a9c1b"
    assert RunSpec(inventory="inv", project_dir="/p", action=Action.ROLLBACK).validate()
