"""A bounded load: a few clients looping real HTTP requests to one site while something happens
(a fault, a redeploy), every answer and connection error counted.

Each client keeps its connection alive, as a browser does, and does what a browser does when a
connection it reuses is closed by the server before any answer (a keep-alive connection an old
worker closes during a graceful reload; RFC 9112 section 9.3.1): it sends the same GET once more
on a new connection. Such a request is counted as retried (and reported), not as failed, when the
new connection answers; an error on a new connection, or an HTTP error, is a failure.

The clients are paced (`interval` between the starts of one client's requests, 50 a second by
default): 200 requests a second see a window of a few milliseconds, and the machine is left to the
servers and the playbook under test instead of to the clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests


@dataclass
class Sample:
    start: float
    seconds: float
    status: int  # 0: no HTTP answer (connection error, timeout)
    error: str = ""
    retried: bool = False  # answered on a new connection after a reused one was closed


@dataclass
class Load:
    """`clients` threads GET `url` (with the site's Host name) until stopped or `limit` seconds."""

    url: str
    host: str
    clients: int = 4
    limit: float = 120.0
    timeout: float = 30.0
    interval: float = 0.02  # seconds from one request's start to the next one's, per client
    ok: tuple[int, ...] = (200,)
    # How each client makes its session (e.g. web.https_session for HTTPS with SNI).
    session_factory: Callable[[], requests.Session] = requests.Session
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, session: requests.Session) -> int:
        return session.get(self.url, headers={"Host": self.host}, timeout=self.timeout).status_code

    def _client(self) -> None:
        session = self.session_factory()
        reused = False  # the session's connection has answered before (it is kept alive)
        deadline = time.monotonic() + self.limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            start = time.monotonic()
            try:
                sample = Sample(start, 0.0, self._get(session))
                reused = True
            except requests.ConnectionError as exc:
                session, was_reused, reused = self.session_factory(), reused, False
                sample = Sample(start, 0.0, 0, exc.__class__.__name__)
                if was_reused:  # what a browser does: the same GET once on a new connection
                    try:
                        sample = Sample(start, 0.0, self._get(session), "", retried=True)
                        reused = True
                    except requests.RequestException as again:
                        sample = Sample(start, 0.0, 0, again.__class__.__name__)
                        session = self.session_factory()
            except requests.RequestException as exc:
                sample = Sample(start, 0.0, 0, exc.__class__.__name__)
                session, reused = self.session_factory(), False
            sample.seconds = time.monotonic() - start
            with self._lock:
                self.samples.append(sample)
            self._stop.wait(max(0.0, start + self.interval - time.monotonic()))

    def __enter__(self) -> Load:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def failed(self) -> list[Sample]:
        return [s for s in self.samples if s.status not in self.ok]

    def summary(self) -> str:
        failed = self.failed()
        kinds = sorted({f"{s.status or s.error}" for s in failed})
        slowest = max((s.seconds for s in self.samples), default=0.0)
        retried = sum(1 for s in self.samples if s.retried)
        return (
            f"{len(self.samples)} requests, {len(failed)} failed"
            f"{' (' + ', '.join(kinds) + ')' if kinds else ''}"
            f"{f', {retried} retried on a new connection' if retried else ''}"
            f", slowest {slowest:.2f} s"
        )

    def recovery(self, since: float) -> float:
        """Seconds from `since` until the end of the last bad or slow (> 1 s) answer."""
        worst = [
            s.start + s.seconds
            for s in self.samples
            if s.start + s.seconds >= since and (s.status not in self.ok or s.seconds > 1.0)
        ]
        return max(worst) - since if worst else 0.0
