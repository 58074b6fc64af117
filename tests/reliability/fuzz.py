"""A seeded schemathesis run against a server's own ``/openapi.json``.

Runs the schemathesis CLI (the same engine as its Python API) and reads its JSON report, so the
tests and ``benchmarks/load.py`` count generated requests and failures the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# No 5xx, documented statuses answer in the documented media type with the documented schema.
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@dataclass
class FuzzResult:
    """Counts from one schemathesis run."""

    generated: int
    with_failures: int
    failures: list[str]
    errors: list[str]
    output: str


def run_schemathesis(base_url: str, report_dir: Path, *, max_examples: int, seed: int,
                     phases: str = "fuzzing", workers: int = 1, timeout: float = 1800,
                     headers: dict[str, str] | None = None) -> FuzzResult:
    """Fuzz every operation of ``base_url/openapi.json`` with ``max_examples`` cases each."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "run",
               f"{base_url}/openapi.json", "--max-examples", str(max_examples),
               "--seed", str(seed), "--phases", phases, "--checks", CHECKS,
               "--workers", str(workers), "--request-timeout", "120",
               "--report", "json", "--report-dir", str(report_dir), "--no-shrink"]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    # Run inside the report directory: schemathesis keeps a cache in ./.schemathesis.
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                               check=False, cwd=report_dir)
    reports = sorted(report_dir.glob("*.json"))
    if not reports:
        raise RuntimeError("schemathesis wrote no report:\n" + completed.stdout[-4000:]
                           + completed.stderr[-4000:])
    report = json.loads(reports[-1].read_text())
    return FuzzResult(
        generated=report["test_cases"]["generated"],
        with_failures=report["test_cases"]["with_failures"],
        failures=[f"{f['title']} in {', '.join(f['operations'])}" for f in report["failures"]],
        errors=[json.dumps(e)[:300] for e in report["errors"]],
        output=completed.stdout[-6000:],
    )
