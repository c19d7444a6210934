"""Keep the garbage collector's full passes from freezing the UI while runs stream events.

A full (generation 2) collection walks every object the collector tracks. With a large
inventory and a large run in memory (5,000 hosts, 100,000 events) one pass takes 0.1-0.4 s,
during which nothing is drawn. When a run starts, everything allocated so far (the inventory,
the widgets, earlier runs) is moved to the permanent generation (``gc.freeze()``), and while a
run is active each full pass that took longer than ``SLOW_PASS`` is followed by another freeze
of its survivors: full passes then only walk what was allocated since the last freeze. When no
run has been active for ``HOLD`` seconds, ``gc.unfreeze()`` hands everything back to the
collector: cyclic garbage among frozen objects is reclaimed then, never lost (frozen objects are
still freed by reference counting meanwhile). The delay keeps the first full pass after a big
run (0.5 s with 100,000 events) away from the end of the run, when the operator reads the
result; with runs back to back it never comes.
"""

from __future__ import annotations

import gc
import time
from typing import Any

SLOW_PASS = 0.02  # seconds
HOLD = 60.0  # seconds without a run before the frozen objects go back to the collector


class GcGuard:
    """Install with :meth:`install`; tell it when runs start and when none is left."""

    def __init__(self, slow_pass: float = SLOW_PASS, hold: float = HOLD) -> None:
        self.slow_pass = slow_pass
        self.hold = hold
        self.active = False
        self.freezes = 0
        self._release_at: float | None = None
        self._started = 0.0
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._callback)
            self._installed = True

    def uninstall(self) -> None:
        self.active = False
        self._unfreeze()
        if self._installed:
            gc.callbacks.remove(self._callback)
            self._installed = False

    def run_started(self) -> None:
        """A run is active (called at every UI tick while one is)."""
        self._release_at = None
        if not self.active:
            self.active = True
            gc.freeze()
            self.freezes += 1

    def settle(self) -> None:
        """A big long-lived structure was just built (an inventory model of 5,000 hosts is some
        10^5 objects): collect once and freeze the survivors, so that the full passes the
        screens' own allocations trigger (a filter rebuilds the tree at each keystroke) do not
        walk the whole model each time. The frozen objects go back to the collector like a
        run's (:meth:`runs_over`, then :meth:`tick`); until then they are still freed by
        reference counting."""
        gc.collect()
        gc.freeze()
        self.freezes += 1

    def runs_over(self) -> None:
        """No run is active: the frozen objects go back to the collector in ``hold`` seconds
        (:meth:`tick`), unless a run starts before."""
        self.active = False
        if self.freezes:
            self._release_at = time.monotonic() + self.hold

    def tick(self) -> None:
        """Called regularly (the UI tick): release the frozen objects once it is time."""
        if self._release_at is not None and time.monotonic() >= self._release_at:
            self._unfreeze()

    def _unfreeze(self) -> None:
        self._release_at = None
        if self.freezes:
            gc.unfreeze()
            self.freezes = 0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self.active and time.perf_counter() - self._started > self.slow_pass:
            gc.freeze()
            self.freezes += 1
