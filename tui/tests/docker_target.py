"""A throwaway systemd target container for the integration test (docker SDK).

The flags are those of ``scripts/containers.sh run_target``: systemd as PID 1 without
``--privileged``. The container is named ``wsgi-tui-it-<random>``, labelled ``wsgi-tui-it=1``
and always removed on exit.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

IMAGE = "wsgi-systemd:bookworm"
# $WSGI_TUI_IT_PREFIX names the container otherwise (sessions sharing an engine keep apart).
NAME_PREFIX = os.environ.get("WSGI_TUI_IT_PREFIX") or "wsgi-tui-it-"
BOOT_TIMEOUT = 90  # seconds for systemd to finish booting


def docker_client() -> tuple[Any | None, str]:
    """A client of a Docker engine that answers and has IMAGE, or None and why not."""
    try:
        import docker
        from docker.errors import DockerException, ImageNotFound
    except ImportError:
        return None, "the docker Python SDK is not installed"
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException as exc:
        return None, f"no Docker engine answers ({exc.__class__.__name__}: {exc})"
    try:
        client.images.get(IMAGE)
    except ImageNotFound:
        client.close()
        return None, f"image {IMAGE} is missing (build it: scripts/containers.sh images)"
    return client, ""


@contextmanager
def systemd_target(client: Any, image: str = IMAGE) -> Iterator[Any]:
    """Start a systemd container, wait until it has booted, yield it; remove it at the end."""
    name = NAME_PREFIX + uuid.uuid4().hex[:8]
    container = client.containers.run(
        image,
        command="/lib/systemd/systemd",
        name=name,
        hostname=name,
        detach=True,
        cap_add=["SYS_ADMIN"],
        cgroupns="host",
        volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
        tmpfs={"/run": "", "/run/lock": "", "/tmp": ""},
        labels={"wsgi-tui-it": "1"},
    )
    try:
        wait_for_systemd(container)
        yield container
    finally:
        container.remove(force=True, v=True)


def wait_for_systemd(container: Any, timeout: float = BOOT_TIMEOUT) -> None:
    """``systemctl is-system-running --wait`` until it says running or degraded.

    Right after the start systemd's bus does not exist yet ("Failed to connect to bus"): that
    answer, and "starting", are retried until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        left = max(1, int(deadline - time.monotonic()))
        result = container.exec_run(
            ["timeout", str(left), "systemctl", "is-system-running", "--wait"]
        )
        state = result.output.decode(errors="replace").strip()
        if state in ("running", "degraded"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"systemd in {container.name} did not boot in {timeout:.0f} s: {state}")
