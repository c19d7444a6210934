"""The benchmark's own throwaway systemd containers (`wsgi-bench-*`, label wsgi-bench=1)."""

from __future__ import annotations

import json
import subprocess
import time

IMAGE = "wsgi-systemd:bookworm"
LABEL = "wsgi-bench=1"
# Flags that boot systemd as PID 1 without --privileged (scripts/containers.sh).
SYSTEMD_FLAGS = [
    "--cap-add", "SYS_ADMIN", "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
]  # fmt: skip


def exists(name: str) -> bool:
    return (
        subprocess.run(["docker", "container", "inspect", name], capture_output=True).returncode
        == 0
    )


def start(name: str, image: str = IMAGE) -> None:
    """Start `name` (fresh unless it exists) and wait until its systemd has booted."""
    if not exists(name):
        subprocess.run(
            ["docker", "run", "-d", "--name", name, "--hostname", name, *SYSTEMD_FLAGS,
             "--label", LABEL, image],
            check=True, capture_output=True,
        )  # fmt: skip
    for _ in range(120):
        state = subprocess.run(
            ["docker", "exec", name, "systemctl", "is-system-running"],
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        if state in ("running", "degraded"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"systemd in {name} did not boot")


def remove(names: list[str]) -> None:
    existing = [n for n in names if exists(n)]
    if existing:
        subprocess.run(["docker", "rm", "-f", *existing], check=True, capture_output=True)


def ip(name: str) -> str:
    out = subprocess.run(
        ["docker", "inspect", name], capture_output=True, text=True, check=True
    ).stdout
    networks = json.loads(out)[0]["NetworkSettings"]["Networks"]
    return next(n["IPAddress"] for n in networks.values() if n["IPAddress"])


def sh(name: str, script: str, timeout: float = 900, stdin: str = "") -> str:
    """Run a shell script as root in the container (`stdin` on its input); its stdout."""
    proc = subprocess.run(
        ["docker", "exec", "-i", name, "bash", "-euo", "pipefail", "-c", script],
        capture_output=True, text=True, timeout=timeout, input=stdin,
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(f"{name}: {script[:200]}...\n{(proc.stdout + proc.stderr)[-2000:]}")
    return proc.stdout


def cpu_usec(name: str) -> int:
    """The container's CPU time so far in microseconds (its cgroup's accounting, v1 or v2)."""
    cid = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True, check=True
    ).stdout.strip()
    v1 = f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage"  # nanoseconds
    v2 = f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat"
    try:
        with open(v1) as f:
            return int(f.read()) // 1000
    except FileNotFoundError:
        pass
    with open(v2) as f:
        for line in f:
            key, value = line.split()
            if key == "usage_usec":
                return int(value)
    return 0
