"""A small IAM policy evaluator: is an action on a resource allowed by a set of policy statements?

Enough of IAM's rules for checking the policies this project writes: an explicit Deny wins,
else an Allow is needed; `Action`/`NotAction` and `Resource`/`NotResource` match with IAM's
wildcards (`*` any run of characters, `?` one character), actions without regard to case and
resources with it. A `Condition` of `StringEquals` tests only is evaluated against the request's
context (condition keys, such as `kms:EncryptionContext:purpose`, without regard to case, and
their values); a statement with any other condition operator is not evaluated: it allows
nothing (the check then errs towards a missing permission) and denies nothing. Principals are the
caller's business (a key policy is turned into the statements naming one caller before this).

Examples:
    >>> policy = Policy.of([{"Effect": "Allow", "Action": "sqs:Send*", "Resource": "arn:aws:sqs:*:1:q-??"}])
    >>> policy.decision("SQS:SendMessage", "arn:aws:sqs:us-east-1:1:q-01")
    <Decision.ALLOWED: 'allowed'>
    >>> policy.decision("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q-001")
    <Decision.NOT_ALLOWED: 'not allowed'>
    >>> keyed = Policy.of([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
    ...                     "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "links"}}}])
    >>> keyed.decision("kms:Decrypt", "k", {"kms:EncryptionContext:purpose": "links"})
    <Decision.ALLOWED: 'allowed'>
    >>> keyed.decision("kms:Decrypt", "k", {"kms:EncryptionContext:purpose": "other"})
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
    # StringEquals tests: (condition key, lower-cased; the values any of which it must equal)
    string_equals: tuple[tuple[str, tuple[str, ...]], ...]
    # A condition operator this evaluator does not know: the statement is never applied.
    unevaluated: bool

    @classmethod
    def of(cls, statement: Mapping[str, Any]) -> Statement:
        negated_actions, negated_resources = "NotAction" in statement, "NotResource" in statement
        condition: Mapping[str, Mapping[str, Any]] = statement.get("Condition", {})
        return cls(
            effect=str(statement["Effect"]),
            actions=tuple(_as_list(statement["NotAction" if negated_actions else "Action"])),
            negated_actions=negated_actions,
            resources=tuple(_as_list(statement["NotResource" if negated_resources else "Resource"])),
            negated_resources=negated_resources,
            string_equals=tuple(
                (key.lower(), tuple(_as_list(values)))
                for key, values in condition.get("StringEquals", {}).items()
            ),
            unevaluated=bool(set(condition) - {"StringEquals"}),
        )

    def applies_to(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        if self.unevaluated:
            return False
        known = {key.lower(): value for key, value in (context or {}).items()}
        if any(known.get(key) not in values for key, values in self.string_equals):
            return False
        action_listed = any(_pattern(pattern, False).fullmatch(action) for pattern in self.actions)
        resource_listed = any(_pattern(pattern, True).fullmatch(resource) for pattern in self.resources)
        return (action_listed != self.negated_actions) and (resource_listed != self.negated_resources)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    @classmethod
    def of(cls, statements: Iterable[Mapping[str, Any]]) -> Policy:
        return cls(tuple(Statement.of(statement) for statement in statements))

    def decision(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> Decision:
        """`context`: the request's condition keys and values (a KMS call's encryption context)."""
        applicable = [
            statement for statement in self.statements if statement.applies_to(action, resource, context)
        ]
        if any(statement.effect == "Deny" for statement in applicable):
            return Decision.DENIED
        if any(statement.effect == "Allow" for statement in applicable):
            return Decision.ALLOWED
        return Decision.NOT_ALLOWED
