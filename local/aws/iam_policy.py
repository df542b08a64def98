"""A small IAM policy evaluator: is an action on a resource allowed by a set of policy statements?

Enough of IAM's rules for checking identity policies this project writes: an explicit Deny wins,
else an Allow is needed; `Action`/`NotAction` and `Resource`/`NotResource` match with IAM's
wildcards (`*` any run of characters, `?` one character), actions without regard to case and
resources with it. A statement with a `Condition` is not evaluated: it allows nothing (the check
then errs towards a missing permission) and denies nothing.

Examples:
    >>> policy = Policy.of([{"Effect": "Allow", "Action": "sqs:Send*", "Resource": "arn:aws:sqs:*:1:q-??"}])
    >>> policy.decision("SQS:SendMessage", "arn:aws:sqs:us-east-1:1:q-01")
    <Decision.ALLOWED: 'allowed'>
    >>> policy.decision("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q-001")
    <Decision.NOT_ALLOWED: 'not allowed'>
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any


class Decision(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"  # by an explicit Deny
    NOT_ALLOWED = "not allowed"  # no Allow matches


@cache
def _pattern(text: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _as_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    negated_actions: bool
    resources: tuple[str, ...]
    negated_resources: bool
    conditional: bool

    @classmethod
    def of(cls, statement: Mapping[str, Any]) -> Statement:
        negated_actions, negated_resources = "NotAction" in statement, "NotResource" in statement
        return cls(
            effect=str(statement["Effect"]),
            actions=tuple(_as_list(statement["NotAction" if negated_actions else "Action"])),
            negated_actions=negated_actions,
            resources=tuple(_as_list(statement["NotResource" if negated_resources else "Resource"])),
            negated_resources=negated_resources,
            conditional="Condition" in statement,
        )

    def applies_to(self, action: str, resource: str) -> bool:
        action_listed = any(_pattern(pattern, False).fullmatch(action) for pattern in self.actions)
        resource_listed = any(_pattern(pattern, True).fullmatch(resource) for pattern in self.resources)
        return (action_listed != self.negated_actions) and (resource_listed != self.negated_resources)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    @classmethod
    def of(cls, statements: Iterable[Mapping[str, Any]]) -> Policy:
        return cls(tuple(Statement.of(statement) for statement in statements))

    def decision(self, action: str, resource: str) -> Decision:
        applicable = [
            statement
            for statement in self.statements
            if not statement.conditional and statement.applies_to(action, resource)
        ]
        if any(statement.effect == "Deny" for statement in applicable):
            return Decision.DENIED
        if any(statement.effect == "Allow" for statement in applicable):
            return Decision.ALLOWED
        return Decision.NOT_ALLOWED
