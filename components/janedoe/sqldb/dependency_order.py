"""Parents before children; foreign keys that close a cycle (including self-references) are reported, because their
constraint can only be added once both ends are loaded."""

from dataclasses import dataclass

from janedoe.sqldb.schema_model import DatabaseSchema, ForeignKey


@dataclass
class TableOrder:
    tables: list[str]  # referenced tables first
    cyclic_foreign_keys: list[ForeignKey]  # self-references and keys inside a reference cycle

    def is_cyclic(self, fk: ForeignKey) -> bool:
        return any(fk is other for other in self.cyclic_foreign_keys)


def order_tables(schema: DatabaseSchema, only: list[str] | None = None) -> TableOrder:
    """The tables (all, or `only`) in load order, so every row's references exist when it is written."""
    names = sorted(only if only is not None else schema.tables)
    chosen = set(names)
    parents = {
        name: sorted({fk.referred_table for fk in schema.tables[name].foreign_keys if fk.referred_table in chosen})
        for name in names
    }
    components = _strongly_connected(names, parents)
    component_of = {name: index for index, members in enumerate(components) for name in members}
    # Tarjan yields components with every dependency before its dependants when edges point child -> parent.
    order = [name for members in components for name in sorted(members)]
    cyclic = [
        fk
        for name in names
        for fk in schema.tables[name].foreign_keys
        if fk.referred_table in chosen and component_of[fk.referred_table] == component_of[name]
    ]
    return TableOrder(order, cyclic)


def _strongly_connected(names: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (schemas can be deep)."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in names:
        if root in index_of:
            continue
        work = [(root, 0)]
        while work:
            node, edge_index = work.pop()
            if edge_index == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = edges[node]
            if edge_index < len(children):
                work.append((node, edge_index + 1))
                child = children[edge_index]
                if child not in index_of:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index_of[child])
                continue
            if low[node] == index_of[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                result.append(members)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result
