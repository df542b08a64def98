"""The enqueue checkpoint: round trip, atomic replacement, and a damaged file refused clearly."""

from __future__ import annotations

import json

import pytest

from operator_cli import checkpoint
from operator_cli.checkpoint import Checkpoint
from operator_cli.errors import UsageError


def test_a_saved_checkpoint_reads_back_as_saved_beside_its_input(tmp_path):
    # Given a checkpoint advanced twice and completed
    path = checkpoint.path_for(tmp_path / "leavers.csv")
    state = Checkpoint("leavers.csv", "ab" * 32, "https://q", 7).advanced(11, 10).advanced(21, 10).completed()

    # When it is saved and loaded
    checkpoint.save(path, state)

    # Then it is the same, in a file named after the input, with no temporary file left
    assert path.name == "leavers.csv.checkpoint.json"
    assert checkpoint.load(path) == state
    assert (state.last_line, state.messages_sent, state.complete) == (21, 20, True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leavers.csv.checkpoint.json"]


def test_no_checkpoint_is_none(tmp_path):
    assert checkpoint.load(tmp_path / "x.checkpoint.json") is None


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"version": 99}),
        json.dumps({"version": 1, "file": "x", "sha256": "a", "queue_url": "q", "last_line": "3"}),
    ],
)
def test_a_damaged_checkpoint_is_a_usage_error_pointing_at_restart(tmp_path, content):
    path = tmp_path / "x.checkpoint.json"
    path.write_text(content)
    with pytest.raises(UsageError, match="--restart"):
        checkpoint.load(path)
