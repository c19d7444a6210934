"""Command line entry point.

wsgi-console -i INVENTORY [--data-dir DIR] [--project-dir DIR] [--notify-command CMD]
             [--notify-url URL]          the interactive console
wsgi-console run -i INVENTORY [...]      one run without the UI (see headless.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .paths import default_data_dir, find_project_dir, project_problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsgi-console",
        description="Admin TUI for the WSGI deployment playbooks: browse the inventory, "
        "run playbooks, watch and replay runs. `wsgi-console run --help`: one run without "
        "the UI, for cron and CI.",
    )
    parser.add_argument("-i", "--inventory", required=True, help="inventory directory or file")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="history/data directory (default: $WSGI_CONSOLE_DATA_DIR, "
        "$XDG_DATA_HOME/wsgi-console or ~/.local/share/wsgi-console)",
    )
    parser.add_argument(
        "--project-dir",
        default=None,
        help="collection root holding site.yml (default: first parent of the inventory with one)",
    )
    parser.add_argument(
        "--notify-command",
        default=None,
        help="run when a run ends, its summary (JSON) on stdin "
        "(default: $WSGI_CONSOLE_NOTIFY_COMMAND)",
    )
    parser.add_argument(
        "--notify-url",
        default=None,
        help="webhook: the summary of each ended run POSTed as JSON "
        "(default: $WSGI_CONSOLE_NOTIFY_URL)",
    )
    return parser


def build_run_parser() -> argparse.ArgumentParser:
    from .headless import add_arguments

    parser = argparse.ArgumentParser(
        prog="wsgi-console run",
        description="Run one deployment without the UI (same run spec and checks as the "
        "console), print its live summary, record it in the history. Exit status: 0 "
        "successful, 1 failed, 2 refused, 3 cancelled/interrupted, 4 error.",
    )
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        from . import headless

        return headless.main(build_run_parser().parse_args(argv[1:]))
    args = build_parser().parse_args(argv)
    inventory = Path(args.inventory)
    if not inventory.exists():
        print(f"wsgi-console: inventory not found: {inventory}", file=sys.stderr)
        return 2
    project = Path(args.project_dir) if args.project_dir else find_project_dir(inventory)
    if project is None:
        print(
            f"wsgi-console: no project directory: no parent of {inventory} holds site.yml; "
            "give the collection's root with --project-dir DIR",
            file=sys.stderr,
        )
        return 2
    problems = project_problems(project.resolve())
    if problems:
        for problem in problems:
            print(f"wsgi-console: {problem}", file=sys.stderr)
        return 2
    from .app import WsgiConsole
    from .notify import Notifier

    app = WsgiConsole(
        inventory=str(inventory.resolve()),
        data_dir=args.data_dir or default_data_dir(),
        project_dir=project,
        notifier=Notifier.from_env(args.notify_command, args.notify_url),
    )
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
