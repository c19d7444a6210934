"""Export an SVG screenshot of each main screen for the README (uses app.save_screenshot).

    cd tui && python docs/make_screenshots.py

The screens are rendered from the same deterministic fixtures as the snapshot tests.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

from tests.snapshot_support import SCREENS, SIZE, make_app  # noqa: E402


async def shoot(name: str, theme: str) -> Path:
    app = make_app(theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await SCREENS[name](pilot)
        await pilot.pause()
        suffix = "" if theme == "textual-dark" else "-light"
        filename = f"{name.replace('_', '-')}{suffix}.svg"
        app.save_screenshot(filename=filename, path=str(DOCS))
    return DOCS / filename


async def main() -> None:
    for name in SCREENS:
        print(await shoot(name, "textual-dark"))
    print(await shoot("inventory", "textual-light"))


if __name__ == "__main__":
    asyncio.run(main())
