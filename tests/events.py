"""The sample events in events/ (the ones `sam local invoke -e events/NAME.json` takes), by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
# Beside the events, not one: the function's environment for `sam local invoke --env-vars`.
ENV_VARS_FILE = EVENTS_DIR / "env.json"


def event_names() -> list[str]:
    """Every sample event's name (the file name without ``.json``), sorted."""
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json") if path != ENV_VARS_FILE)


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json`` (``.json`` optional), safe to change in a test."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    event = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(event, dict):
        raise TypeError(f"{path} holds a {type(event).__name__}, not an event object")
    return event
