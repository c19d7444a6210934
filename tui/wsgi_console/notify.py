"""Notification hooks: when a run ends, its summary (JSON) goes to a command and/or a webhook.

* a command (``--notify-command``, ``$WSGI_CONSOLE_NOTIFY_COMMAND``): run through the shell with
  the summary on its standard input and ``WSGI_RUN_ID``, ``WSGI_RUN_STATUS`` in its environment;
* a webhook (``--notify-url``, ``$WSGI_CONSOLE_NOTIFY_URL``): the summary POSTed as
  ``application/json``.

Hooks run in a background thread with a timeout; a failing hook is reported (``errors``), never
fatal to the run or the console. The summary holds no secret: it is built from the redacted
history (totals, outcomes, the redacted command line).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HOOK_TIMEOUT = 30.0  # seconds, per hook


@dataclass
class Notifier:
    command: str | None = None
    url: str | None = None
    timeout: float = HOOK_TIMEOUT
    errors: list[str] = field(default_factory=list)
    on_error: Callable[[str], None] | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def from_env(
        cls,
        command: str | None = None,
        url: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(
            command=command or env.get("WSGI_CONSOLE_NOTIFY_COMMAND") or None,
            url=url or env.get("WSGI_CONSOLE_NOTIFY_URL") or None,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.command or self.url)

    def send(self, summary: dict[str, Any]) -> None:
        """Fire the hooks for one run's summary (in the background)."""
        if not self.enabled:
            return
        thread = threading.Thread(
            target=self._deliver, args=(summary,), name="wsgi-console-notify", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the hooks in flight (at exit, so that a cron job's hook is not cut)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _deliver(self, summary: dict[str, Any]) -> None:
        body = json.dumps(summary, sort_keys=True).encode()
        if self.command:
            self._run_command(body, summary)
        if self.url:
            self._post(body)

    def _error(self, message: str) -> None:
        self.errors.append(message)
        if self.on_error is not None:
            self.on_error(message)

    def _run_command(self, body: bytes, summary: dict[str, Any]) -> None:
        assert self.command
        env = dict(os.environ)
        env["WSGI_RUN_ID"] = str(summary.get("run_id", ""))
        env["WSGI_RUN_STATUS"] = str(summary.get("status", ""))
        try:
            proc = subprocess.run(
                self.command,
                shell=True,
                input=body,
                env=env,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._error(f"notify command failed: {exc}")
            return
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
            self._error(f"notify command exited {proc.returncode}: {' '.join(tail)}")

    def _post(self, body: bytes) -> None:
        assert self.url
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "wsgi-console"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self._error(f"notify webhook {self.url} failed: {exc}")
