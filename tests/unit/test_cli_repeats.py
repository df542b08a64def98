"""The index of subscribers seen, which enqueue keeps on disk to send a repeat once."""

from __future__ import annotations

import sqlite3

import pytest

from operator_cli.repeats import RepeatIndex
from optout.hubspot.subscribers import subscriber_key


def test_a_key_is_first_seen_once_and_a_repeat_names_that_line():
    # Given an index, When keys arrive on their lines
    with RepeatIndex() as index:
        first = [
            index.first_line(subscriber_key(email), line)
            for line, email in enumerate(
                [
                    "jane@example.com",
                    "straße@example.de",
                    "JANE@example.com",
                    "strasse@example.de",
                    "jane@example.com",
                ],
                start=1,
            )
        ]

    # Then each new subscriber is its own first line, and a repeat (HubSpot's lower()) names the first
    assert first == [1, 2, 1, 4, 1]


def test_the_index_is_gone_when_closed():
    index = RepeatIndex()
    index.first_line("a@example.com", 1)
    index.close()
    with pytest.raises(sqlite3.ProgrammingError):
        index.first_line("a@example.com", 2)
