"""Issue 15, items 4-12: what an operator sees (first screen, filter, tags, stack switch,
colour-free markers, layouts, resolved modes, the matrix from the hosts' records, the
inventory cache) — Pilot tests of the real app on the fixture inventories and project."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import DataTable, Input, Select, SelectionList, Static, Tree

from wsgi_console import inventory as inventory_module
from wsgi_console.__main__ import main as cli_main
from wsgi_console.app import WsgiConsole
from wsgi_console.deployed import DeployedRecord, decode_records
from wsgi_console.inventory import (
    inventory_signature,
    load_cached_inventory,
    load_inventory,
    save_inventory_cache,
)
from wsgi_console.screens.inventory import InventoryScreen
from wsgi_console.screens.live import LiveScreen
from wsgi_console.screens.matrix import MatrixScreen
from wsgi_console.screens.run_setup import RunSetupScreen

from .conftest import DEMO_INV, wait_for
from .snapshot_support import FAILED_RUN
from .snapshot_support import make_app as snapshot_app

AppFactory = Callable[..., WsgiConsole]


async def started(pilot: Any, app: WsgiConsole) -> None:
    await wait_for(pilot, lambda: app.inventory is not None)
    await pilot.pause()


def screen_text(app: WsgiConsole) -> list[str]:
    """The screen as the terminal shows it, one string per line."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


# -- 4. the first screen shows every site ----------------------------------------------------------


async def test_first_screen_lists_every_site_without_moving_the_cursor(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        table = app.screen.query_one("#sites", DataTable)
        listed = {(r[0], r[1]) for r in rows(table)}
        assert listed == {
            ("demo-web1", "hello"),
            ("demo-web1", "shop"),
            ("demo-web2", "blog"),
            ("demo-edge1", "hello"),
            ("demo-edge1", "shop"),
        }
        # The tree shows the sites too (a small inventory starts with its hosts open).
        text = "\n".join(screen_text(app))
        assert "blog.demo.test" in text and "hello.demo.test" in text


# -- 5. the project directory is checked at start ----------------------------------------------


def test_no_project_dir_is_a_clear_error_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = tmp_path / "x" / "inventory"
    shutil.copytree(DEMO_INV, inventory)
    monkeypatch.chdir(tmp_path / "x")
    monkeypatch.setattr(WsgiConsole, "run", lambda self: pytest.fail("the console started"))
    assert cli_main(["-i", str(inventory), "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "no parent of" in err and "holds site.yml" in err and "--project-dir" in err
    # A project directory without the playbooks is refused too.
    assert cli_main(["-i", str(inventory), "--project-dir", str(tmp_path)]) == 2
    assert "has no site.yml" in capsys.readouterr().err


async def test_a_console_without_a_project_refuses_to_launch(
    make_app: AppFactory, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(DEMO_INV, inventory)
    app = make_app(inventory=inventory, project_dir=None)
    async with app.run_test(size=(140, 44)) as pilot:
        await started(pilot, app)
        assert app.project_problems and "--project-dir" in app.project_problems[0]
        status = str(app.screen.query_one("#inv-status", Static).render())
        assert "Project:" in status
        await pilot.press("n")
        await pilot.pause()
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "no project directory" in preview
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen) and not app.runs


# -- 6. tags come from the playbooks -----------------------------------------------------------


async def test_tags_come_from_the_playbooks(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        tags = app.screen.query_one("#tags", SelectionList)
        values = [tags.get_option_at_index(i).value for i in range(tags.option_count)]
        assert "django" in values  # deploy.yml's Django steps
        assert values == sorted(values) and "always" not in values
        tags.select("django")
        await pilot.pause()
        assert "--tags django" in str(app.screen.query_one("#preview", Static).render())


# -- 7. the stack switch offers the other stack and flags no-ops ----------------------------------


async def test_switch_offers_the_other_stack_and_flags_a_noop(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await started(pilot, app)
        app.selected_targets[:] = ["edge"]  # demo-edge1: hello and shop on nginx_gunicorn
        await pilot.press("n")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#action", Select).value = "switch_stack"
        sites = screen.query_one("#sites", SelectionList)
        sites.select("hello")
        sites.select("shop")
        await pilot.pause()
        stack = screen.query_one("#stack", Select)
        assert stack.value == "apache_mod_wsgi", "the switch must offer the other stack"
        preview = str(screen.query_one("#preview", Static).render())
        assert "no-op" not in preview
        # The operator picks the stack the sites are already on: flagged, refused.
        stack.value = "nginx_gunicorn"
        await pilot.pause()
        preview = str(screen.query_one("#preview", Static).render())
        assert "no-op" in preview and "already on nginx_gunicorn" in preview
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen) and not app.runs


# -- 8. markers that do not depend on colour ----------------------------------------------------


async def test_selected_and_unselected_options_differ_without_colour(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        screen = app.screen
        sites = screen.query_one("#sites", SelectionList)
        sites.select("blog")
        await pilot.pause()

        def plain(widget: Any, y: int) -> str:
            return "".join(segment.text for segment in widget.render_line(y))

        lines = {plain(sites, y).split()[-1]: plain(sites, y) for y in range(sites.option_count)}
        assert lines["blog"] != lines["hello"].replace("hello", "blog"), lines
        assert "✔" in lines["blog"] and "✔" not in lines["hello"]
        check = screen.query_one("#mode-check")
        apply = screen.query_one("#mode-apply")
        assert "●" in check.render().plain and "●" not in apply.render().plain  # type: ignore[attr-defined]


# -- 9. the filter ------------------------------------------------------------------------------


async def test_filter_moves_to_the_tree_filters_the_sites_and_counts(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await started(pilot, app)
        await pilot.press("slash")
        await pilot.press(*"blog")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        table = screen.query_one("#sites", DataTable)
        assert [(r[0], r[1]) for r in rows(table)] == [("demo-web2", "blog")]
        labels = [line.strip() for line in screen_text(app) if "hosts" in line or "host" in line]
        assert any("web  1/2 hosts" in line for line in labels), labels
        status = str(screen.query_one("#inv-status", Static).render())
        assert "filter: 1/3 hosts, 1 sites" in status
        await pilot.press("enter")
        await pilot.pause()
        tree = screen.query_one("#inv-tree", Tree)
        assert app.focused is tree
        assert tree.cursor_node is not None and tree.cursor_node.data == ("host", "demo-web2")
        # No match: said so, in the tree and above the sites table.
        filter_box = screen.query_one("#filter", Input)
        filter_box.value = "nosuchthing"
        await pilot.pause()
        assert table.row_count == 0
        assert "no site matches" in str(screen.query_one("#inv-info", Static).render())
        assert any("no match for 'nosuchthing'" in line for line in screen_text(app))


# -- 10. layouts and the resolved mode ---------------------------------------------------------


def visible_columns(table: DataTable[Any]) -> list[str]:
    """Labels of the columns that end within the table's visible width."""
    width = table.scrollable_content_region.width
    out: list[str] = []
    x = 0
    for column in table.ordered_columns:
        x += column.get_render_width(table)
        if x <= width:
            out.append(str(column.label))
    return out


def demo_like_inventory(directory: Path) -> Path:
    """Hosts and sites shaped like the collection's demo inventory (its real name lengths)."""
    inventory = directory / "inventory"
    inventory.mkdir()
    sites = [
        {"name": "hello", "domain": "departamentos.centro.intranet", "path": "/test"},
        {"name": "guestbook", "domain": "guestbook.example.org"},
        {"name": "polls", "domain": "poll.example.org", "kind": "django"},
    ]
    hosts = {
        "demo-apache": {"ansible_connection": "local"},
        "demo-nginx": {"ansible_connection": "local", "wsgi_default_stack": "nginx_gunicorn"},
    }
    data = {"all": {"children": {"wsgi_servers": {"hosts": hosts, "vars": {"wsgi_sites": sites}}}}}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(data))
    return inventory


@pytest.mark.parametrize("size", [(100, 30), (160, 48), (200, 50)])
async def test_sites_table_shows_stack_mode_state(
    make_app: AppFactory, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(inventory=demo_like_inventory(tmp_path))
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        tree = app.screen.query_one("#inv-tree", Tree)
        tree.focus()
        line = next(
            i
            for i in range(20)
            if (n := tree.get_node_at_line(i)) and n.data == ("host", "demo-apache")
        )
        tree.cursor_line = line
        await pilot.pause()
        table = app.screen.query_one("#sites", DataTable)
        assert table.row_count == 3
        shown = visible_columns(table)
        for column in ("host", "site", "stack", "mode", "state"):
            assert column in shown, (size, shown)


@pytest.mark.parametrize("size", [(100, 30), (160, 48), (200, 50)])
async def test_live_view_task_names_are_readable(size: tuple[int, int]) -> None:
    app = snapshot_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.inventory is not None)
        app.replay(FAILED_RUN)
        await pilot.pause()
        await pilot.pause(0.2)
        table = app.screen.query_one("#tasks", DataTable)
        shown = visible_columns(table)
        assert shown[:2] == ["status", "task"], shown
        task = table.columns[table.ordered_columns[1].key]
        longest = max(len(str(table.get_row_at(i)[1])) for i in range(table.row_count))
        assert task.get_render_width(table) - 2 >= longest  # no task name is cut
        for label in ("ok", "chg", "fail", "unr"):
            assert label in shown, (size, shown)
        # The footer shows the screen's own keys, the last one included. Textual fills it in
        # after the screen is up (a bindings signal), later on a loaded machine: waited for.
        keys = ("Cancel", "Check→apply", "Quit")
        try:
            await wait_for(pilot, lambda: all(k in screen_text(app)[-1] for k in keys), 10.0)
        except AssertionError:
            footer = screen_text(app)[-1]
            raise AssertionError(f"the footer lacks one of {keys}: {footer!r}") from None


async def test_apache_sites_show_their_resolved_mode(make_app: AppFactory, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(DEMO_INV, inventory)
    sites_file = inventory / "group_vars" / "all" / "sites.yml"
    data = yaml.safe_load(sites_file.read_text())
    for site in data["wsgi_sites"]:
        site.pop("mod_wsgi", None)  # no mode set: Apache's default applies
    sites_file.write_text(yaml.safe_dump(data))
    app = make_app(inventory=inventory)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        table = app.screen.query_one("#sites", DataTable)
        modes = {(r[0], r[1]): r[3] for r in rows(table)}
        assert modes[("demo-web1", "hello")] == "daemon"  # apache_mod_wsgi, default mode
        assert modes[("demo-web1", "shop")] == "—"  # nginx_gunicorn: no mod_wsgi mode
        assert modes[("demo-edge1", "hello")] == "—"


# -- 11. the matrix reads the truth from the hosts ---------------------------------------------


def write_record(base: Path, host: str, site: str, **fields: Any) -> None:
    folder = base / host
    folder.mkdir(parents=True, exist_ok=True)
    record = {"schema": 1, "site": site, "state": "present", **fields}
    (folder / f"{site}.json").write_text(json.dumps(record))


async def test_matrix_reads_deployed_state_from_the_hosts_and_shows_drift(
    make_app: AppFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    common = {
        "deployed_at": "2026-12-01T10:00:00Z",
        "deployed_by": "ops@ctl",
        "run_id": "20261201-100000-abc123",
    }
    write_record(state_dir, "demo-web1", "hello", stack="apache_mod_wsgi", mode="daemon",
                 release="r-hello-1", **common)  # fmt: skip
    write_record(state_dir, "demo-web1", "shop", stack="nginx_gunicorn", release="r-shop-1",
                 future_key={"ignored": True}, **common)  # fmt: skip
    # demo-web2 runs blog on the other stack: drift.
    write_record(state_dir, "demo-web2", "blog", stack="nginx_gunicorn", release="r-blog-7",
                 **common)  # fmt: skip
    # demo-edge1 has shop only (hello never deployed there), and a stray site.
    write_record(state_dir, "demo-edge1", "shop", stack="nginx_gunicorn", **common)
    write_record(state_dir, "demo-edge1", "oldsite", stack="nginx_gunicorn", **common)
    app = make_app(envvars={"WSGI_FIXTURE_STATE_DIR": str(state_dir)})
    async with app.run_test(size=(200, 50)) as pilot:
        await started(pilot, app)
        await pilot.press("m")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MatrixScreen)
        info = screen.query_one("#matrix-info", Static)
        assert "never read from the hosts" in str(info.render())
        await pilot.press("r")
        await wait_for(pilot, lambda: not screen.reading_in_progress, timeout=90)
        await pilot.pause()
        table = screen.query_one("#matrix", DataTable)
        cells = {
            (str(table.get_row_at(i)[0]).split("\n")[0], str(col.label)): str(
                table.get_row_at(i)[j]
            )
            for i in range(table.row_count)
            for j, col in enumerate(table.ordered_columns)
        }
        hello = cells[("demo-web1", "hello")]
        assert "r-hello-1" in hello and "2026-12-01 10:00" in hello
        assert "ops@ctl" in hello and "20261201-100000-abc123" in hello and "≠" not in hello
        blog = cells[("demo-web2", "blog")]
        assert blog.startswith("apache_mod_wsgi daemon"), blog  # the inventory's
        assert "≠ host runs nginx_gunicorn" in blog, blog  # and the host's: drift
        assert "release ?" in cells[("demo-edge1", "shop")]  # missing keys shown as unknown
        assert "≠ not on the host (no record)" in cells[("demo-edge1", "hello")]
        assert "≠ not in the inventory" in cells[("demo-edge1", "oldsite")]
        text = str(info.render())
        assert "3 drift" in text and "3/3 answered" in text, text
        # The reading is kept: a new console shows it at once.
    again = make_app()
    async with again.run_test(size=(200, 50)) as pilot:
        await started(pilot, again)
        await pilot.press("m")
        await pilot.pause()
        assert "hosts read" in str(again.screen.query_one("#matrix-info", Static).render())


async def test_matrix_shows_a_host_that_could_not_be_read(
    make_app: AppFactory, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    write_record(state_dir, "demo-web1", "hello", stack="apache_mod_wsgi")
    app = make_app(
        envvars={"WSGI_FIXTURE_STATE_DIR": str(state_dir), "WSGI_FIXTURE_STATUS_FAIL": "demo-web2"}
    )
    async with app.run_test(size=(200, 50)) as pilot:
        await started(pilot, app)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("r")
        screen = app.screen
        await wait_for(pilot, lambda: not screen.reading_in_progress, timeout=90)
        await pilot.pause()
        table = screen.query_one("#matrix", DataTable)
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        web2 = next(label for label in labels if label.startswith("demo-web2"))
        assert "⚠ cannot read the records" in web2, web2
        reading = screen.reading
        assert reading is not None
        assert reading.hosts["demo-web2"].error == "cannot read the records on demo-web2"
        assert "2/3 answered" in str(screen.query_one("#matrix-info", Static).render())


def test_records_are_read_tolerantly() -> None:
    good = base64.b64encode(json.dumps({"site": "a", "stack": "x", "new": [1]}).encode())
    bad = base64.b64encode(b"{not json")
    records = decode_records({"records": [good.decode(), bad.decode()]})
    assert records["a"] == DeployedRecord(site="a", stack="x")
    (broken,) = [r for r in records.values() if r.error]
    assert broken.error and broken.error.startswith("not JSON")
    assert DeployedRecord.parse(["a list"], "s").error == "not a JSON object"


# -- 12. the inventory is shown from its cache, then fresh ----------------------------------


def test_inventory_is_cached_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(DEMO_INV, inventory)
    cache = tmp_path / "cache"
    calls: list[list[str]] = []
    run = inventory_module.subprocess.run

    def counting(argv: list[str], **kwargs: Any) -> Any:
        calls.append(argv)
        return run(argv, **kwargs)

    monkeypatch.setattr(inventory_module.subprocess, "run", counting)
    source = str(inventory)
    assert load_cached_inventory(source, cache) is None
    first = load_inventory(source)
    assert first.ok and len(calls) == 1 and not first.from_cache
    save_inventory_cache(first, cache, inventory_signature(source))
    second = load_cached_inventory(source, cache)
    assert second is not None and second.from_cache and len(calls) == 1
    assert second.groups == first.groups and second.hosts.keys() == first.hosts.keys()
    for name, host in first.hosts.items():
        cached_host = second.hosts[name]
        assert cached_host.sites == host.sites and cached_host.groups == host.groups
        assert cached_host.address == host.address
        assert cached_host.default_stack == host.default_stack
    assert second.environment == first.environment
    assert not second.secret_values  # secrets never reach the cache: no launch from it
    hosts = inventory / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("demo-edge1:", "demo-edge9:"))
    assert load_cached_inventory(source, cache) is None
    # The cache holds no secret in clear and is private; the app shows it at start, then the
    # fresh model.
    for path in cache.rglob("*.json"):
        assert "hello-token-abcdef" not in path.read_text()
        assert path.stat().st_mode & 0o077 == 0


async def test_filtering_a_big_inventory_keeps_the_tree_lazy(
    make_app: AppFactory, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    groups = {
        f"g{g:02d}": {
            "hosts": {f"h{g:02d}-{i:03d}": {"ansible_connection": "local"} for i in range(40)}
        }
        for g in range(25)
    }
    site = {"name": "app", "domain": "app.test"}
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {"wsgi_servers": {"children": groups}},
                    "vars": {"wsgi_sites": [site]},
                }
            }
        )
    )
    app = make_app(inventory=inventory)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        screen = app.screen
        tree = screen.query_one("#inv-tree", Tree)
        # 1,000 hosts: the groups are filled in when expanded, not all at once.
        assert sum(1 for _ in _walk(tree.root)) < 100
        assert app.gc_guard.freezes >= 1  # the fresh model is kept out of full GC passes
        screen.query_one("#filter", Input).value = "h07-"
        await pilot.pause()
        assert screen.match_hosts == [f"h07-{i:03d}" for i in range(40)]
        table = screen.query_one("#sites", DataTable)
        assert table.row_count == 40
        assert "40 sites on 40 hosts" in str(screen.query_one("#inv-info", Static).render())


def _walk(node: Any) -> Any:
    for child in node.children:
        yield child
        yield from _walk(child)


async def test_live_view_of_the_snapshot_run_at_100_columns_stacks_the_panels() -> None:
    app = snapshot_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.inventory is not None)
        app.replay(FAILED_RUN)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LiveScreen) and screen.has_class("narrow")
        left = screen.query_one("#live-left")
        right = screen.query_one("#live-right")
        assert left.region.width >= 98 and right.region.y > left.region.y


async def test_the_app_shows_the_cached_inventory_then_the_fresh_one(
    make_app: AppFactory, data_dir: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await started(pilot, app)
    seen: list[bool] = []
    again = make_app()
    original = again._set_inventory

    def recording(inventory: Any, signature: Any) -> None:
        seen.append(inventory.from_cache)
        original(inventory, signature)

    again._set_inventory = recording  # type: ignore[method-assign]
    async with again.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: len(seen) == 2)
        assert seen == [True, False]
        assert again.inventory is not None and again.inventory.secret_values


def test_record_shows_the_certificates_days_left() -> None:
    """The records' `tls` (written by the collection's site_state) gives the matrix the days
    until the served certificate expires."""
    from wsgi_console.matrix import MatrixCell
    from wsgi_console.screens.matrix import cell_text

    raw = {
        "site": "shop",
        "stack": "nginx_gunicorn",
        "release": "r1",
        "tls": {"mode": "acme", "not_after": "2027-01-11T00:00:00Z", "issuer": "CN=R11"},
    }
    rec = DeployedRecord.parse(raw)
    assert rec.tls_mode == "acme" and rec.cert_issuer == "CN=R11"
    now = 1797033600.0  # 2026-12-12T00:00:00Z
    assert rec.cert_days_left(now) == 30
    assert DeployedRecord.parse({"site": "plain", "tls": {"mode": "off"}}).cert_days_left() is None
    cell = MatrixCell(host="h", site="shop", stack="nginx_gunicorn", state="present", record=rec,
                      read=True)  # fmt: skip
    assert "TLS acme: certificate" in cell_text(cell).plain


def test_record_shows_the_sites_processes_and_timers() -> None:
    """The records' `services` (role wsgi_workers' units, named by site_state) in the matrix."""
    from wsgi_console.matrix import MatrixCell
    from wsgi_console.screens.matrix import cell_text

    raw = {
        "site": "shop",
        "release": "r1",
        "services": {"processes": ["worker", "beat"], "timers": {"cleanup": "daily"}},
    }
    rec = DeployedRecord.parse(raw)
    assert rec.processes == ("worker", "beat") and rec.timers == (("cleanup", "daily"),)
    assert DeployedRecord.parse({"site": "x", "services": "junk"}).processes == ()
    cell = MatrixCell(host="h", site="shop", stack="nginx_gunicorn", state="present", record=rec,
                      read=True)  # fmt: skip
    shown = cell_text(cell).plain
    assert "processes: worker, beat" in shown and "timers: cleanup (daily)" in shown
