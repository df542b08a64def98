"""The benchmark's figures, side by side with the baselines: a Markdown table and a JSON document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BASELINES = ("naive", "raw", "hubspot-sdk")


@dataclass(frozen=True)
class Measured:
    """A figure's value in the unit its goal uses, and how the table shows it."""

    value: float
    text: str


@dataclass(frozen=True)
class NotAvailable:
    """A figure that could not be measured in this run, and why."""

    reason: str

    @property
    def text(self) -> str:
        return f"n/a ({self.reason})"


Cell = Measured | NotAvailable


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    function: Cell
    goal: str
    # None for a figure that is only reported, or whose value is not available.
    met: bool | None
    # Baselines that do not apply to a figure are left out (shown as a dash).
    baselines: Mapping[str, Cell] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    # What explains the figure (a breakdown, a timeline), in Markdown, printed after the table.
    explanation: str = ""


def _verdict(figure: Figure) -> str:
    if figure.met is None:
        return "reported"
    return "met" if figure.met else "**missed**"


def _cell_text(cell: Cell | None) -> str:
    return "—" if cell is None else cell.text.replace("|", "/")


def markdown_table(figures: Sequence[Figure]) -> str:
    header = ["figure", "function", *BASELINES, "goal", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for figure in figures:
        cells = [
            figure.title,
            _cell_text(figure.function),
            *(_cell_text(figure.baselines.get(name)) for name in BASELINES),
            figure.goal,
            _verdict(figure),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def explanations(figures: Sequence[Figure]) -> str:
    """Each figure's explanation under its title, after the table."""
    return "".join(
        f"\n### {figure.title}\n\n{figure.explanation.rstrip()}\n" for figure in figures if figure.explanation
    )


def markdown_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell_json(cell: Cell) -> dict[str, Any]:
    if isinstance(cell, NotAvailable):
        return {"value": None, "text": cell.text, "reason": cell.reason}
    return {"value": cell.value, "text": cell.text}


def figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "key": figure.key,
        "title": figure.title,
        "function": _cell_json(figure.function),
        "baselines": {name: _cell_json(cell) for name, cell in figure.baselines.items()},
        "goal": figure.goal,
        "met": figure.met,
        "details": dict(figure.details),
    }
