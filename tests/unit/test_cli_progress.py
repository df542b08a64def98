"""Progress on stderr: a redrawn bar on a terminal, else a line at every tenth."""

from __future__ import annotations

import io

from operator_cli.progress import Progress


def test_without_a_terminal_a_line_is_written_at_each_tenth_crossed():
    # Given progress over 95 items on a stream that is not a terminal
    stream = io.StringIO()
    progress = Progress(95, "enqueue x.csv", stream)

    # When it advances in batches of ten
    for _ in range(10):
        progress.advance(10)
    progress.advance(0)  # no tenth crossed: no line
    progress.close()

    # Then each tenth crossed is one line, the last at 100%, with no carriage returns
    lines = stream.getvalue().splitlines()
    assert lines[0] == "enqueue x.csv: 10/95 (10%)"
    assert lines[-1] == "enqueue x.csv: 95/95 (100%)"
    assert len(lines) == 10  # 10, 20 ... 90 and 95 each cross one tenth of 95
    assert "\r" not in stream.getvalue()


def test_on_a_terminal_the_bar_is_redrawn_at_most_ten_times_a_second_and_always_at_the_end():
    # Given a terminal and a clock that barely moves
    stream = io.StringIO()
    now = [0.0]
    progress = Progress(30, "enqueue x.csv", stream, interactive=True, clock=lambda: now[0])

    # When it advances three times within 50 ms
    progress.advance(10)
    now[0] = 0.05
    progress.advance(10)
    progress.advance(10)
    progress.close()

    # Then the first and the final states were drawn, in place, and the line ended
    drawn = stream.getvalue()
    assert drawn.count("\r") == 2
    assert "[##########....................] 10/30 (33%)" in drawn
    assert "[##############################] 30/30 (100%)" in drawn
    assert drawn.endswith("\n")
