"""One `unsubscribe-all enqueue` of a file, in a fresh process: how long it took, how much memory.

    python -m bench.enqueue_probe SPEC_JSON RESULT_JSON

SPEC_JSON: {"file", "mode", "localState"?, "queueUrl"?}. Modes:

- `dry-run`: the CLI's `enqueue FILE --dry-run`: the file read, checked, repeats found, nothing sent.
- `moto`: the CLI's `enqueue FILE` against the local stack state naming moto's queue.
- `instant-sqs`: the enqueue path in full (messages built, batches handed over, the checkpoint
  written as it goes), with SQS's SendMessageBatch answered at once by a stand-in that
  acknowledges every entry: the CLI's own cost, without any queue's.

The result: seconds of the enqueue itself, the peak RSS (VmHWM) after it, and the RSS after the
imports, before the file is opened.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any

from operator_cli.batch_sender import BatchSender
from operator_cli.enqueue import EnqueueOptions, enqueue_file
from operator_cli.main import main


class AcknowledgingSqs:
    """SendMessageBatch, answered at once: every entry acknowledged."""

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def run(spec: dict[str, Any]) -> dict[str, Any]:
    path = Path(spec["file"])
    mode = spec["mode"]
    baseline_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    if mode == "dry-run":
        code = main(["enqueue", str(path), "--dry-run", "--json"])
    elif mode == "moto":
        code = main(["enqueue", str(path), "--local-state", spec["localState"], "--json"])
    else:
        sender = BatchSender(AcknowledgingSqs(), spec["queueUrl"])  # type: ignore[arg-type]
        result = enqueue_file(EnqueueOptions(path, spec["queueUrl"]), sender, io.StringIO())
        code = 1 if result.rejected_count else 0
    seconds = time.perf_counter() - started
    return {
        "code": code,
        "seconds": seconds,
        "peak_rss_kb": _status_kb("VmHWM"),
        "baseline_rss_kb": baseline_kb,
    }


if __name__ == "__main__":
    spec_path, result_path = sys.argv[1:3]
    result = run(json.loads(Path(spec_path).read_text(encoding="utf-8")))
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
