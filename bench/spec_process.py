"""A measurement in a process of its own: it reads a spec from a file and writes its result to another."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class ProbeError(RuntimeError):
    """The probe failed, or a record of it was not settled."""


def run_with_spec(
    command: Sequence[str],
    spec: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    timeout_s: float,
    what: str,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Runs `command` with the spec's file and the result's file as its last two arguments; the
    result, or ProbeError naming `what`, with the end of what the process wrote to stderr."""
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as folder:
        spec_path, result_path = Path(folder, "spec.json"), Path(folder, "result.json")
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        completed = subprocess.run(  # noqa: S603 - our probes, our interpreters
            [*command, str(spec_path), str(result_path)],
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if completed.returncode != 0:
            raise ProbeError(f"{what} failed: {completed.stderr.strip()[-600:]}")
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    return result
