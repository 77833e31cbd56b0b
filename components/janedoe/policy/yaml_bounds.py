"""Bounds on a policy's YAML before it is turned into Python objects: its size, its depth and how far aliases expand.

PyYAML shares an aliased node instead of copying it, but everything after it (validation, the line index, dumping)
walks the document as a tree, so 511 bytes of nested aliases ("billion laughs") become billions of nodes. The tree
size is computed on the node graph itself, each distinct node once, and a document that would expand past the
bound is refused at the line of the first node that does.
"""

import yaml
from janedoe.errors import JaneDoeInputError

MAX_POLICY_BYTES = 1024 * 1024
MAX_POLICY_NODES = 100_000
MAX_POLICY_DEPTH = 64


def check_policy_size(text: str, source_name: str) -> None:
    if len(text) > MAX_POLICY_BYTES or len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise JaneDoeInputError(f"the policy is larger than {MAX_POLICY_BYTES >> 20} MiB", where=source_name)


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting past MAX_POLICY_DEPTH while composing (before Python's recursion limit)."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_POLICY_DEPTH:
                mark = self.peek_event().start_mark
                raise JaneDoeInputError(
                    f"YAML nested deeper than {MAX_POLICY_DEPTH} levels", where=f"{self._source_name}:{mark.line + 1}"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def __init__(self, text: str, source_name: str) -> None:
        super().__init__(text)
        self._source_name = source_name


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node, source_name: str) -> None:
    """Refuse a node graph whose tree (aliases expanded) has more than MAX_POLICY_NODES nodes, nests deeper than
    MAX_POLICY_DEPTH, or contains itself; linear in the number of distinct nodes."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes in its expanded tree, its height)
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            parts = [sizes[id(child)] for child in _children(node)]
            size = 1 + sum(part[0] for part in parts)
            height = 1 + max((part[1] for part in parts), default=0)
            where = f"{source_name}:{node.start_mark.line + 1}"
            if size > MAX_POLICY_NODES:
                raise JaneDoeInputError(
                    f"aliases expand the YAML past {MAX_POLICY_NODES:,} nodes (an alias bomb?)", where=where
                )
            if height > MAX_POLICY_DEPTH:
                raise JaneDoeInputError(f"YAML nested deeper than {MAX_POLICY_DEPTH} levels", where=where)
            sizes[key] = (size, height)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise JaneDoeInputError("a YAML alias refers to itself", where=f"{source_name}:{node.start_mark.line + 1}")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)) if id(child) not in sizes)
    return None
