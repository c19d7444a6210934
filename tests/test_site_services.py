"""Unit tests of a site's processes and timers (plugins/module_utils/site_services.py through the
site model): validation messages, normalisation, and how each argument is written into
ExecStart= (checked against a re-implementation of systemd's own splitting rules)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
model = importlib.import_module("module_utils.site_model")
services = importlib.import_module("module_utils.site_services")


@pytest.fixture()
def settings(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hello.wsgi").write_text("def application(e, s): pass\n")
    return {"source_base_dir": str(tmp_path), "default_stack": "apache_mod_wsgi"}


def site(**over: Any) -> dict[str, Any]:
    return {"name": "hello", "domain": "a.example.org", "source": {"path": "hello"},
            "entry": "hello.wsgi", **over}  # fmt: skip


def systemd_split(line: str) -> list[str]:
    """How systemd splits an ExecStart= line into arguments once the specifiers (%%) and
    variables ($$) are resolved (extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE, for
    the characters exec_quote writes), refusing anything it would treat differently."""
    words: list[str] = []
    i = 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        word: list[str] = []
        quoted = False
        while i < len(line) and (quoted or line[i] != " "):
            ch = line[i]
            if ch == '"':
                quoted = not quoted
            elif ch == "\\":
                i += 1
                assert line[i] in '\\";', f"unexpected escape \\{line[i]} in {line!r}"
                word.append(line[i])
            elif ch in "%$":
                assert line[i + 1] == ch, f"unescaped {ch} in {line!r}"
                word.append(ch)
                i += 1
            else:
                word.append(ch)
            i += 1
        assert not quoted, f"unbalanced quotes in {line!r}"
        words.append("".join(word))
    return words


@pytest.mark.parametrize(
    ("over", "field", "part"),
    [
        ({"processes": ["python worker.py"]}, "processes", "must be a mapping"),
        ({"processes": {"Worker": "python w.py"}}, "processes.Worker", "must be 1-31"),
        ({"processes": {"a_b": "python w.py"}}, "processes.a_b", "must be 1-31"),
        ({"processes": {"w": ""}}, "processes.w", "must name a program"),
        ({"processes": {"w": "python 'unbalanced"}}, "processes.w", "cannot be split"),
        ({"processes": {"w": "python w.py\nExecStartPre=/bin/evil"}}, "processes.w", "single line"),
        ({"processes": {"w": ["python", "a\tb"]}}, "processes.w", "control characters"),
        ({"processes": {"w": ["python", 3]}}, "processes.w", "list of strings"),
        ({"processes": {"w": 42}}, "processes.w", "must be a command"),
        ({"processes": {"w": {"run": "x", "user": "root"}}}, "processes.w.user", "unknown option"),
        ({"processes": {"w": {"restart_sec": 1}}}, "processes.w.run", "is required"),
        ({"processes": {"w": {"run": "x", "restart_sec": -1}}}, "processes.w.restart_sec", ">= 0"),
        ({"processes": {"w": {"run": "x", "restart_sec": "5s"}}}, "processes.w.restart_sec", ">="),
        ({"timers": {"t": {"run": "x"}}}, "timers.t.on_calendar", "is required"),
        ({"timers": {"t": "python job.py"}}, "timers.t.on_calendar", "is required"),
        (
            {"timers": {"t": {"run": "x", "on_calendar": "daily\nOnBootSec=1"}}},
            "timers.t.on_calendar",
            "calendar expression",
        ),  # fmt: skip
        ({"timers": {"t": {"run": "x", "on_calendar": "%H"}}}, "timers.t.on_calendar", "calendar"),
        (
            {"timers": {"t": {"run": "x", "on_calendar": "daily", "every": 5}}},
            "timers.t.every",
            "unknown option",
        ),  # fmt: skip
        (
            {"processes": {"x": "a"}, "timers": {"x": {"run": "b", "on_calendar": "daily"}}},
            "timers.x",
            "also the name of an entry of 'processes'",
        ),  # fmt: skip
    ],
)
def test_bad_processes_and_timers_are_refused(
    settings: dict[str, Any], over: dict[str, Any], field: str, part: str
) -> None:
    errors = model.wsgi_site_errors([site(**over)], settings)
    assert any(e.startswith(f"site 'hello': field '{field}'") and part in e for e in errors), errors


def test_good_processes_and_timers_pass(settings: dict[str, Any]) -> None:
    good = site(
        processes={"worker": "python -m app.worker --queue default",
                   "beat": {"run": ["celery", "-A", "proj", "beat"], "restart_sec": 5}},
        timers={"cleanup": {"run": "python manage.py clearsessions", "on_calendar": "daily"},
                "every10s": {"run": ["python", "tick.py"], "on_calendar": "*:*:0/10"},
                "weekdays": {"run": "x", "on_calendar": "Mon..Fri *-*-* 09:00:00 Europe/Paris"}},
    )  # fmt: skip
    assert model.wsgi_site_errors([good], settings) == []


def test_two_sites_cannot_write_the_same_unit(settings: dict[str, Any]) -> None:
    one = site(processes={"b-c": "python w.py"})
    two = site(name="hello-b", domain="b.example.org", processes={"c": "python w.py"})
    errors = model.wsgi_site_errors([one, two], settings)
    assert any(
        e.startswith("site 'hello-b': field 'processes.c'") and "wsgi-hello-b-c" in e
        for e in errors
    ), errors
    gone = {**two, "state": "absent"}
    assert model.wsgi_site_errors([one, gone], settings) == []


def test_the_normalised_services(settings: dict[str, Any]) -> None:
    rec = model.wsgi_site_normalize(
        [site(processes={"worker": "python w.py --queue 'a b'",
                         "beat": {"run": ["celery", "beat"], "restart_sec": 5}},
              timers={"cleanup": {"run": ["python", "c.py"], "on_calendar": "daily"}})],
        settings,
    )[0]  # fmt: skip
    assert rec["run_file"] == "/srv/wsgi/hello/bin/run"
    assert rec["services"] == {
        "processes": [
            {"name": "worker", "unit": "wsgi-hello-worker.service",
             "argv": ["python", "w.py", "--queue", "a b"],
             "exec_args": 'python w.py --queue "a b"', "restart_sec": 2},
            {"name": "beat", "unit": "wsgi-hello-beat.service", "argv": ["celery", "beat"],
             "exec_args": "celery beat", "restart_sec": 5},
        ],
        "timers": [
            {"name": "cleanup", "service": "wsgi-hello-cleanup.service",
             "timer": "wsgi-hello-cleanup.timer", "argv": ["python", "c.py"],
             "exec_args": "python c.py", "on_calendar": "daily"},
        ],
        "units": ["wsgi-hello-worker.service", "wsgi-hello-beat.service",
                  "wsgi-hello-cleanup.service", "wsgi-hello-cleanup.timer"],
    }  # fmt: skip


def test_a_site_without_processes_and_an_absent_site_have_none(settings: dict[str, Any]) -> None:
    plain, gone = model.wsgi_site_normalize(
        [site(), site(name="gone", state="absent", processes={"w": "python w.py"})], settings
    )
    assert plain["services"] == {"processes": [], "timers": [], "units": []}
    assert gone["services"] == {"processes": [], "timers": [], "units": []}


@pytest.mark.parametrize(
    ("arg", "written"),
    [
        ("plain-arg_1.py", "plain-arg_1.py"),
        ("--queue=default", "--queue=default"),
        ("a b", '"a b"'),
        ("50%", '"50%%"'),
        ("%n", '"%%n"'),
        ("$HOME", '"$$HOME"'),
        ("${HOME}", '"$${HOME}"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("it's", '"it\'s"'),
        (";", "\\;"),
        ("a;b", '"a;b"'),
        ("", '""'),
        ("-", "-"),
        ("ünï", '"ünï"'),
    ],
)
def test_each_argument_is_written_for_execstart(arg: str, written: str) -> None:
    assert services.exec_quote(arg) == written
    assert systemd_split(written) == [arg]


def test_a_whole_command_reaches_the_program_unchanged() -> None:
    argv = ["python", "w.py", "--tag", '50% $HOME "q" \\ ;', ";", "", "x y"]
    assert systemd_split("/srv/wsgi/hello/bin/run " + services.exec_args(argv)) == [
        "/srv/wsgi/hello/bin/run",
        *argv,
    ]


def test_the_record_fingerprints_the_units_and_names_the_services(
    settings: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit written by a run that died before restarting it differs from the record: the next
    run's comparison names it (workers_changed), and only it."""
    records = importlib.import_module("module_utils.records")
    monkeypatch.setattr(services, "UNIT_DIR", str(tmp_path / "units"))
    (tmp_path / "units").mkdir()
    full = {**settings, "sites_root": str(tmp_path / "srv"), "state_dir": str(tmp_path / "state")}
    (rec,) = model.wsgi_site_normalize(
        [site(processes={"w": "python w.py"}, timers={"t": {"run": "x", "on_calendar": "daily"}})],
        full,
    )
    unit = tmp_path / "units" / "wsgi-hello-w.service"
    unit.write_text("[Service]\nExecStart=/srv/wsgi/hello/bin/run python w.py\n")
    (tmp_path / "state").mkdir()
    record = {"fingerprint": records.fingerprint(rec), **records.describe(rec)}
    (tmp_path / "state" / "hello.json").write_text(json.dumps(record))
    params = {"state_dir": str(tmp_path / "state")}
    assert record["services"] == {"processes": ["w"], "timers": {"t": "daily"}}
    assert sorted(record["fingerprint"]["workers"]) == [
        str(tmp_path / "units" / u)
        for u in ("wsgi-hello-t.service", "wsgi-hello-t.timer", "wsgi-hello-w.service")
    ]
    assert records.status(rec, params)["workers_changed"] == []
    unit.write_text("[Service]\nExecStart=/srv/wsgi/hello/bin/run python w.py --new\n")
    status = records.status(rec, params)
    assert status["workers_changed"] == [str(unit)]
    assert status["reload"] is False  # the app itself has nothing to take
