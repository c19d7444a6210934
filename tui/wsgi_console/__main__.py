"""Command line entry point: ``wsgi-console -i INVENTORY [--data-dir DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .paths import default_data_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsgi-console",
        description="Admin TUI for the WSGI deployment playbooks: browse the inventory, "
        "run playbooks, watch and replay runs.",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    inventory = Path(args.inventory)
    if not inventory.exists():
        print(f"wsgi-console: inventory not found: {inventory}", file=sys.stderr)
        return 2
    from .app import WsgiConsole

    app = WsgiConsole(
        inventory=str(inventory.resolve()),
        data_dir=args.data_dir or default_data_dir(),
        project_dir=args.project_dir,
    )
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
