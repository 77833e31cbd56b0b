"""Loading a policy from YAML: every error is one line naming the file, the line and the field.

Line numbers come from the YAML node tree (yaml.compose keeps each node's position), matched against the field path
pydantic reports.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from janedoe.errors import JaneDoeInputError
from janedoe.policy.mask_rules import RULE_NAMES
from janedoe.policy.model import Policy
from janedoe.policy.yaml_bounds import MAX_POLICY_BYTES, BoundedSafeLoader, check_expansion, check_policy_size
from pydantic import ValidationError

_Path = tuple[Any, ...]


def _node_lines(node: yaml.Node, path: _Path, lines: dict[_Path, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _node_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _node_lines(item, child, lines)


def _field_path(loc: tuple) -> list:
    """pydantic's location as the YAML path: rule parameters sit beside `mask`, without the union's tag."""
    path: list = []
    index = 0
    while index < len(loc):
        part = loc[index]
        next_part = loc[index + 1] if index + 1 < len(loc) else None
        if part == "mask" and next_part in RULE_NAMES:
            if index + 2 < len(loc):
                index += 2
                continue
            path.append("mask")
            index += 2
            continue
        path.append(part)
        index += 1
    return path


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "union_tag_invalid":
        return f"unknown rule {ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return "a rule needs a 'mask' name"
    if kind == "extra_forbidden":
        return "unknown parameter"
    if kind == "missing":
        return "missing required field"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def _describe(error: Mapping[str, Any]) -> tuple[list, str]:
    if error["type"] == "policy_field":  # a check across tables, naming the field it refuses
        return list(error["ctx"]["path"]), error["ctx"]["message"]
    if error["type"] == "role_rule":
        ctx = error["ctx"]
        inner = {"type": ctx.get("type", "value_error"), "msg": ctx["message"], "ctx": ctx.get("ctx") or {}}
        path = ["roles", *ctx["path"].split("."), *_field_path(("mask", *(ctx.get("loc") or ())))]
        return path, _message(inner)
    return _field_path(error["loc"]), _message(error)


def parse_policy(text: str, source_name: str = "policy.yaml") -> Policy:
    """Validate a policy's YAML text; errors name source_name, the line and the field.

    Size, depth and alias expansion are bounded before any Python object is built from the YAML.
    """
    check_policy_size(text, source_name)
    try:
        loader = BoundedSafeLoader(text, source_name)
    except yaml.YAMLError:  # the reader refuses control characters before parsing starts
        raise JaneDoeInputError("invalid YAML: control characters are not allowed", where=source_name) from None
    try:
        root = loader.get_single_node()
        if root is not None:
            check_expansion(root, source_name)
        data = None if root is None else loader.construct_document(root)
    except RecursionError:
        raise JaneDoeInputError("YAML nested too deeply", where=source_name) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source_name}:{mark.line + 1}" if mark else source_name
        raise JaneDoeInputError(f"invalid YAML: {error.problem or error.context}", where=where) from None
    except yaml.YAMLError:
        raise JaneDoeInputError("invalid YAML", where=source_name) from None
    finally:
        loader.dispose()
    if data is None:
        raise JaneDoeInputError("empty policy: it needs at least 'version' and 'tables'", where=source_name)
    if not isinstance(data, dict):
        raise JaneDoeInputError("a policy is a YAML mapping (version, tables, ...)", where=f"{source_name}:1")
    assert root is not None  # an empty document gives no data and was refused above
    lines: dict[_Path, int] = {}
    _node_lines(root, (), lines)
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        path, message = _describe(error.errors()[0])
        line = next((lines[tuple(path[:n])] for n in range(len(path), 0, -1) if tuple(path[:n]) in lines), None)
        dotted = ".".join(str(part) for part in path)
        where = source_name if line is None else f"{source_name}:{line}"
        raise JaneDoeInputError(message, where=f"{where}: {dotted}" if dotted else where) from None


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise JaneDoeInputError(f"the policy is larger than {MAX_POLICY_BYTES >> 20} MiB", where=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JaneDoeInputError("no such policy file", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise JaneDoeInputError(f"cannot read the policy ({reason})", where=str(path)) from None
    return parse_policy(text, str(path))
