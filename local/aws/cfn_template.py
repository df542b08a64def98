"""Reads a CloudFormation/SAM template written in YAML, short-form intrinsic functions included.

The tags become CloudFormation's own long form (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` ->
``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub s`` -> ``{"Fn::Sub": "s"}``) and nothing is resolved, so the
tests and the local stack read the same properties CloudFormation receives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Template = dict[str, Any]

# Every short form CloudFormation accepts; the rest are plain function names under "Fn::".
_SHORT_FORMS = (
    "Ref",
    "Condition",
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Length",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
)
_NOT_UNDER_FN = {"Ref", "Condition"}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags, no timestamps and no silently repeated keys."""


# CloudFormation reads `AWSTemplateFormatVersion: 2010-09-09` as a string, not a date.
_CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _CfnLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key, deep=True) for key, _ in node.value]
    repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(
            None, None, f"repeated keys {repeated} (CloudFormation rejects them)", node.start_mark
        )
    return loader.construct_mapping(node, deep=True)


def _construct_intrinsic(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    name = node.tag.removeprefix("!")
    key = name if name in _NOT_UNDER_FN else f"Fn::{name}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = _construct_mapping(loader, node)  # type: ignore[arg-type]
    return {key: value}


_CfnLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
for _name in _SHORT_FORMS:
    _CfnLoader.add_constructor(f"!{_name}", _construct_intrinsic)


def loads_template(text: str) -> Template:
    """The template in ``text`` as a dict; raises ``yaml.YAMLError`` on YAML CloudFormation rejects."""
    document = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(document, dict):
        raise yaml.YAMLError("a template is a mapping at the top level")
    return document


def load_template(path: str | Path) -> Template:
    """The template at ``path`` as a dict, intrinsic functions in their long form."""
    return loads_template(Path(path).read_text(encoding="utf-8"))


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    """The resources of one type (e.g. ``AWS::SQS::Queue``) by logical id, in template order."""
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    return {name: body for name, body in resources.items() if body.get("Type") == resource_type}
