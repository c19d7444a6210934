"""Export a stored run as ansible-runner artifacts, and as an ansible-navigator playbook artifact.

``<dir>/<run id>/`` receives what ansible-runner leaves in ``artifacts/<ident>/``:
``job_events/<counter>-<uuid>.json`` (one file per event), ``stdout``, ``status``, ``rc`` and
``command``; and ``<playbook>-artifact-<time>.json``, the format ``ansible-navigator replay``
reads (version 2: plays with their task results, the stdout lines, the status).

The events are the history's: redacted when they were stored, so the export holds no secret.
Files are written 0600 in 0700 directories (the run's output may still be sensitive).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .history import History

NAVIGATOR_VERSION = "2.0.0"
# ansible-navigator's status colours (curses colour numbers): green, red, yellow.
STATUS_COLOR = {"successful": 10, "failed": 9, "canceled": 11, "interrupted": 9, "error": 9}
RESULT_EVENTS = {
    "runner_on_ok": "Ok",
    "runner_on_failed": "Failed",
    "runner_on_skipped": "Skipped",
    "runner_on_unreachable": "Unreachable",
}


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def export_run(history: History, run_id: str, directory: Path) -> Path:
    """Write run ``run_id`` under ``directory``; returns the run's artifact directory."""
    record = history.get_run(run_id)
    if record is None:
        raise KeyError(f"no run {run_id} in the history")
    out = directory / run_id
    events_dir = out / "job_events"
    events_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    stdout: list[str] = []
    plays: list[dict[str, Any]] = []
    play_by_uuid: dict[str, dict[str, Any]] = {}
    task_names: dict[str, str] = {}
    for counter, event in enumerate(history.iter_events(run_id), start=1):
        event = dict(event)
        event.setdefault("counter", counter)
        uuid = str(event.get("uuid") or f"{run_id}-{counter}")
        _write(events_dir / f"{event['counter']}-{uuid}.json", json.dumps(event))
        text = event.get("stdout")
        if text:
            stdout.extend(str(text).splitlines())
        _navigator_event(event, plays, play_by_uuid, task_names)
    _write(out / "stdout", "\n".join(stdout) + ("\n" if stdout else ""))
    _write(out / "status", record.status)
    _write(out / "rc", "" if record.rc is None else str(record.rc))
    _write(
        out / "command",
        json.dumps(
            {
                "command": record.command,
                "cwd": record.spec.project_dir,
                "env": {},
                "run_id": record.id,
                "started": record.started,
                "finished": record.finished,
            }
        ),
    )
    for play in plays:
        _play_stats(play)
    stamp = datetime.fromtimestamp(record.started, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    playbook = Path(record.spec.playbook).stem
    artifact = {
        "version": NAVIGATOR_VERSION,
        "plays": plays,
        "stdout": stdout,
        "status": record.status,
        "status_color": STATUS_COLOR.get(record.status, 11),
    }
    _write(out / f"{playbook}-artifact-{stamp}+00:00.json", json.dumps(artifact))
    return out


def _navigator_event(
    event: dict[str, Any],
    plays: list[dict[str, Any]],
    play_by_uuid: dict[str, dict[str, Any]],
    task_names: dict[str, str],
) -> None:
    """Fold one event into navigator's play → task-result structure."""
    kind = str(event.get("event", ""))
    data = dict(event.get("event_data") or {})
    if kind == "playbook_on_play_start":
        play = {**data, "__play_name": data.get("name") or data.get("play", ""), "tasks": []}
        play.setdefault("uuid", data.get("play_uuid", ""))
        plays.append(play)
        play_by_uuid[str(data.get("play_uuid") or play["uuid"])] = play
        return
    if kind == "playbook_on_task_start":
        task_names[str(data.get("task_uuid"))] = str(data.get("task", ""))
        return
    if kind != "runner_on_start" and kind not in RESULT_EVENTS:
        return
    play = play_by_uuid.get(str(data.get("play_uuid")))
    if play is None:
        return
    key = (data.get("task_uuid"), data.get("host"))
    task = next((t for t in play["tasks"] if (t.get("task_uuid"), t.get("host")) == key), None)
    if task is None:
        task = {
            **data,
            "__changed": "unknown",
            "__duration": "Pending",
            "__host": data.get("host", ""),
            "__number": len(play["tasks"]),
            "__result": "In progress",
            "__task_action": data.get("task_action", ""),
            "__task": task_names.get(str(data.get("task_uuid")), data.get("task", "")),
        }
        play["tasks"].append(task)
    if kind in RESULT_EVENTS:
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        result = RESULT_EVENTS[kind]
        if kind == "runner_on_failed" and data.get("ignore_errors"):
            result = "Ignored"
        duration = data.get("duration")
        task.update(data)
        task["__changed"] = bool((res or {}).get("changed", False))
        task["__duration"] = f"{round(duration)}s" if isinstance(duration, int | float) else "0s"
        task["__result"] = result


def _play_stats(play: dict[str, Any]) -> None:
    tasks = play["tasks"]
    for name in ("ok", "skipped", "failed", "unreachable", "ignored", "in progress"):
        play[f"__{name}"] = sum(1 for t in tasks if str(t["__result"]).lower() == name)
    play["__changed"] = sum(1 for t in tasks if t["__changed"] is True)
    play["__task_count"] = len(tasks)
    done = len(tasks) - play["__in progress"]
    percent = int(done * 100 / len(tasks)) if tasks else 0
    play["__percent_complete"] = percent
    play["__progress"] = f"{percent}%"
