"""`.run/local-stack.json`: where a running local stack can be reached, for the operator CLI.

The keys are a contract with the CLI (its default target is the running local stack): written
when the stack is up, removed when it stops; only the stack that wrote the file removes it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RUN_DIR = Path(__file__).resolve().parent.parent / ".run"
STATE_FILE_NAME = "local-stack.json"


@dataclass(frozen=True)
class StackState:
    aws_endpoint_url: str
    region: str
    queue_url: str
    dead_letter_queue_url: str
    api_url: str
    hubspot_base_url: str

    def to_json(self) -> str:
        document = {
            "awsEndpointUrl": self.aws_endpoint_url,
            "region": self.region,
            "queueUrl": self.queue_url,
            "deadLetterQueueUrl": self.dead_letter_queue_url,
            "apiUrl": self.api_url,
            "hubspotBaseUrl": self.hubspot_base_url,
        }
        return json.dumps(document, indent=2) + "\n"


def write_state(path: Path, state: StackState) -> None:
    """Writes the file whole (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(state.to_json(), encoding="utf-8")
    partial.replace(path)


def remove_state(path: Path, state: StackState) -> None:
    """Removes the file if it still describes `state` (a later stack may have replaced it)."""
    try:
        if path.read_text(encoding="utf-8") == state.to_json():
            path.unlink()
    except FileNotFoundError:
        pass
