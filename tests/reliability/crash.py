"""Kill -9 a server while takes are in flight, restart it on the same data dir, inspect the result.

Shared by ``test_crash_safety.py`` and ``benchmarks/load.py``.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .harness import (
    ServerProcess,
    audio_files,
    english_voice_id,
    find_databases,
    history_ids,
    integrity_check,
    wait_until,
)

TAKE_TEXT = "Take number {i}. A sentence long enough to keep the engine busy for a moment."


@dataclass
class CrashReport:
    """What survived a SIGKILL."""

    started: int
    completed: dict[str, str]
    integrity: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    missing_completed: list[str] = field(default_factory=list)
    wrong_audio: list[str] = field(default_factory=list)
    rows_without_audio: list[str] = field(default_factory=list)
    orphan_files: list[str] = field(default_factory=list)
    serves_after_restart: bool = False

    @property
    def clean(self) -> bool:
        return (all(result == "ok" for result in self.integrity) and bool(self.integrity)
                and not self.missing_completed and not self.wrong_audio
                and not self.rows_without_audio and not self.orphan_files
                and self.serves_after_restart)


def _send_take(base_url: str, voice_id: str, i: int, completed: dict[str, str]) -> None:
    # Half the takes stream, half convert: both must commit before their response completes.
    path = f"/v1/text-to-speech/{voice_id}" + ("/stream" if i % 2 else "")
    try:
        response = requests.post(base_url + path, json={"text": TAKE_TEXT.format(i=i)},
                                 timeout=120)
        if response.status_code == 200:
            completed[response.headers["history-item-id"]] = hashlib.sha256(
                response.content).hexdigest()
    except requests.RequestException:
        pass  # killed mid-flight: this take never completed


def crash_and_restart(data_dir: Path, takes: int = 24, kill_after_completed: int = 3
                      ) -> CrashReport:
    """Start ``takes`` takes, SIGKILL the server once a few completed, restart and check."""
    server = ServerProcess(data_dir).start()
    try:
        voice_id = english_voice_id(server.base_url)
        completed: dict[str, str] = {}
        threads = [threading.Thread(target=_send_take,
                                    args=(server.base_url, voice_id, i, completed))
                   for i in range(takes)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(completed) >= kill_after_completed, timeout=180)
        server.kill()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.kill()
    report = CrashReport(started=takes, completed=dict(completed))
    with ServerProcess(data_dir) as restarted:
        report.integrity = [integrity_check(db) for db in find_databases(data_dir)]
        report.history = history_ids(restarted.base_url)
        report.missing_completed = sorted(set(report.completed) - set(report.history))
        for item_id in report.history:
            audio = requests.get(f"{restarted.base_url}/v1/history/{item_id}/audio", timeout=60)
            if audio.status_code != 200 or not audio.content:
                report.rows_without_audio.append(item_id)
            elif (item_id in report.completed
                  and hashlib.sha256(audio.content).hexdigest() != report.completed[item_id]):
                report.wrong_audio.append(item_id)
        report.orphan_files = [path.name for path in audio_files(data_dir)
                               if path.stem not in set(report.history)]
        after = requests.post(f"{restarted.base_url}/v1/text-to-speech/{voice_id}",
                              json={"text": "Back on my feet."}, timeout=120)
        report.serves_after_restart = (
            after.status_code == 200 and len(after.content) > 0
            and after.headers.get("history-item-id") in history_ids(restarted.base_url))
    return report
