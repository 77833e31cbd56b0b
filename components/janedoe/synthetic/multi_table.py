"""Related tables (a parent such as customers, a child such as orders) synthesized together under one budget.

The privacy unit is the parent: a person. child_counts.py bounds each person to max_children children and builds
two private tables: the parents with their child count, and the children with a few of their parent's columns (the
context). The parent model (MST or AIM) is fitted on the first at rho_parent, the child model on the second at
rho_child, and rho_parent + rho_child is the budget rho from (epsilon, delta). One person is one parent row but up to
max_children child rows, so every count the child fit measures has sensitivity K = max_children, and so do its
selection scores: the child fit runs with the noise a row-level budget rho_child / K^2 calls for, which costs a
person exactly rho_child (a Gaussian of L2 sensitivity K costs K^2 / (2 sigma^2), an exponential mechanism on
scores of sensitivity K costs (K eps)^2 / 8; in general a rho-zCDP mechanism is K^2 rho-zCDP for groups of K rows,
Bun and Steinke 2016, Prop. 1.9). rho_spent recomputes this from the noise records.

Sampling is post-processing. The parent model gives each synthetic parent its attributes and its number of children
(jointly: a segment that orders more keeps ordering more); the child model is sampled for that many children and
each child goes to a parent with its context cells (context_draw.py), so the parent-child relations the child model
measured through the context survive the join. Keys are fresh: parents are numbered 1..n, each child carries its
parent's number (and, if asked, children are numbered 1..m); no real key ever reaches the output.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from janedoe.dp_noise import epsilon_from_rho_delta, rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.aim import AimModel, check_aim, fit_aim
from janedoe.synthetic.child_counts import CONTEXT_PREFIX, COUNT_COLUMN, context_name, related_rows
from janedoe.synthetic.context_draw import draw_by_context
from janedoe.synthetic.domain import DEFAULT_INTEGER_BINS, build_domain, encode_column
from janedoe.synthetic.mst import FittedModel, check_mst, fit_mst, validate_budget

DEFAULT_PARENT_SHARE = 0.5


@dataclass(frozen=True)
class RelatedTables:
    parents: pa.Table
    children: pa.Table


@dataclass(frozen=True)
class RelatedModel:
    """Both fitted models and how to join their samples; only differentially private quantities."""

    parents: FittedModel | AimModel
    children: FittedModel | AimModel
    parent_key: str
    foreign_key: str
    child_key: str | None
    child_columns: tuple[str, ...]
    context: tuple[str, ...]
    max_children: int
    method: str
    epsilon: float
    delta: float
    rho: float
    rho_parent: float
    rho_child: float

    @property
    def rho_spent(self) -> float:
        """Person-level zCDP: the parent fit's, plus max_children^2 times the child fit's row-level rho."""
        return self.parents.rho_spent + self.max_children**2 * self.children.rho_spent

    @property
    def estimated_parents(self) -> int:
        return self.parents.estimated_rows

    def sample(self, parents: int | None = None, rng: np.random.Generator | int | None = None) -> RelatedTables:
        """`parents` synthetic parents (default: the noisy count) and their children, keys fresh and consistent."""
        rng = np.random.default_rng(rng)
        synthetic = self.parents.sample(parents, rng)
        rows = synthetic.num_rows
        counts = np.clip(synthetic.column(COUNT_COLUMN).to_numpy(zero_copy_only=False).astype(np.int64), 0,
                         self.max_children)
        keys = np.arange(1, rows + 1, dtype=np.int64)
        owner = np.repeat(np.arange(rows), counts)
        pool = self.children.sample(owner.size, rng)
        by_name = {column.name: column for column in self.children.domain.columns}
        domains = [by_name[context_name(column)] for column in self.context]
        wanted = np.zeros((owner.size, len(domains)), dtype=np.int64)
        offered = np.zeros((pool.num_rows, len(domains)), dtype=np.int64)
        for position, (column, domain) in enumerate(zip(self.context, domains, strict=True)):
            wanted[:, position] = encode_column(synthetic.column(column), domain)[owner]
            offered[:, position] = encode_column(pool.column(domain.name), domain)
        chosen = draw_by_context(wanted, offered, [domain.size for domain in domains], rng)
        children = pool.select(list(self.child_columns)).take(pa.array(chosen))
        children = children.add_column(0, pa.field(self.foreign_key, pa.int64(), nullable=False),
                                       pa.array(keys[owner]))
        if self.child_key is not None:
            children = children.add_column(0, pa.field(self.child_key, pa.int64(), nullable=False),
                                           pa.array(np.arange(1, owner.size + 1, dtype=np.int64)))
        kept = [name for name in synthetic.column_names if name != COUNT_COLUMN]
        parent_table = synthetic.select(kept).add_column(
            0, pa.field(self.parent_key, pa.int64(), nullable=False), pa.array(keys))
        return RelatedTables(parent_table, children)


def _epsilon_for_rho(rho: float, delta: float) -> float:
    """The epsilon whose conversion back to rho (what fit_mst and fit_aim do) gives at most `rho`."""
    epsilon = epsilon_from_rho_delta(rho, delta)
    while rho_from_epsilon_delta(epsilon, delta) > rho:
        epsilon = math.nextafter(epsilon, 0.0) * (1.0 - 1e-15)
    return epsilon


def _count_spec(max_children: int) -> dict:
    return {"bounds": [0, max_children], "bins": min(max_children + 1, DEFAULT_INTEGER_BINS)}


@dataclass(frozen=True)
class _Plan:
    parent_spec: dict
    child_spec: dict
    parent_epsilon: float
    child_epsilon: float
    rho: float
    rho_parent: float
    rho_child: float


def _columns_of(schema: pa.Schema, columns: Sequence[str], where: str) -> None:
    for column in columns:
        if column not in schema.names:
            raise JaneDoeInputError("no such column in the table", where=f"{where}.{column}")


def _plan(parent_schema: pa.Schema, child_schema: pa.Schema, *, parent_key: str, foreign_key: str,
          parent_columns: Mapping, child_columns: Mapping, context: Sequence[str], max_children: int,
          epsilon: float, delta: float, method: str, parent_share: float, child_key: str | None) -> _Plan:
    if method not in ("mst", "aim"):
        raise JaneDoeInputError("the synthetic method must be mst or aim", where="synthetic.method")
    validate_budget(epsilon, delta)
    if isinstance(max_children, bool) or not isinstance(max_children, int) or max_children < 1:
        raise JaneDoeInputError("max_children must be a positive integer", where="max_children")
    if not (isinstance(parent_share, int | float) and 0 < parent_share < 1):
        raise JaneDoeInputError("the parent's share of the budget must be between 0 and 1", where="parent_share")
    _columns_of(parent_schema, [parent_key], "parent")
    _columns_of(child_schema, [foreign_key], "child")
    key_type, reference_type = parent_schema.field(parent_key).type, child_schema.field(foreign_key).type
    if key_type != reference_type and not (pa.types.is_integer(key_type) and pa.types.is_integer(reference_type)):
        raise JaneDoeInputError("the foreign key's type differs from the parent key's", where=f"child.{foreign_key}")
    if not parent_columns or not child_columns:
        raise JaneDoeInputError("both tables need at least one synthesized column", where="columns")
    _columns_of(parent_schema, list(parent_columns), "parent")
    _columns_of(child_schema, list(child_columns), "child")
    for name, key, where in ((parent_key, parent_columns, "parent"), (foreign_key, child_columns, "child"),
                             (child_key, child_columns, "child")):
        if name in key:
            raise JaneDoeInputError("a key column is not synthesized: fresh keys replace it", where=f"{where}.{name}")
    for name in [*parent_columns, *child_columns]:
        if name == COUNT_COLUMN or name.startswith(CONTEXT_PREFIX):
            where = f"parent.{name}" if name in parent_columns else f"child.{name}"
            raise JaneDoeInputError("the column name is reserved for related synthesis", where=where)
    if len(set(context)) != len(context) or any(column not in parent_columns for column in context):
        raise JaneDoeInputError("context columns must be distinct synthesized parent columns", where="context")
    parent_fields = [parent_schema.field(name) for name in parent_columns] + [pa.field(COUNT_COLUMN, pa.int64())]
    parent_spec = {**parent_columns, COUNT_COLUMN: _count_spec(max_children)}
    parent_domain = build_domain(pa.schema(parent_fields), parent_spec)
    child_fields = [child_schema.field(name) for name in child_columns]
    child_fields += [pa.field(context_name(name), parent_schema.field(name).type) for name in context]
    child_spec = {**child_columns, **{context_name(name): parent_columns[name] for name in context}}
    child_domain = build_domain(pa.schema(child_fields), child_spec)
    rho = float(rho_from_epsilon_delta(epsilon, delta))
    rho_parent = parent_share * rho
    rho_child = rho - rho_parent
    parent_epsilon = _epsilon_for_rho(rho_parent, delta)
    child_epsilon = _epsilon_for_rho(rho_child / max_children**2, delta)
    check = check_aim if method == "aim" else check_mst
    check(parent_domain, parent_epsilon, delta)
    check(child_domain, child_epsilon, delta)
    return _Plan(parent_spec, child_spec, parent_epsilon, child_epsilon, rho, rho_parent, rho_child)


def check_related(parent_schema: pa.Schema, child_schema: pa.Schema, *, parent_key: str, foreign_key: str,
                  parent_columns: Mapping, child_columns: Mapping, context: Sequence[str] = (), max_children: int,
                  epsilon: float, delta: float = 1e-9, method: str = "mst",
                  parent_share: float = DEFAULT_PARENT_SHARE, child_key: str | None = None) -> None:
    """Refuse bad keys, columns, bound or budget from the schemas alone, before anything is charged."""
    _plan(parent_schema, child_schema, parent_key=parent_key, foreign_key=foreign_key, parent_columns=parent_columns,
          child_columns=child_columns, context=tuple(context), max_children=max_children, epsilon=epsilon,
          delta=delta, method=method, parent_share=parent_share, child_key=child_key)


def fit_related(parents: pa.Table, children: pa.Table, *, parent_key: str, foreign_key: str,
                parent_columns: Mapping, child_columns: Mapping, context: Sequence[str] = (), max_children: int,
                epsilon: float, delta: float = 1e-9, method: str = "mst",
                parent_share: float = DEFAULT_PARENT_SHARE, child_key: str | None = None,
                bounding_key: bytes | None = None, rng: np.random.Generator | None = None) -> RelatedModel:
    """Fit both tables under one (epsilon, delta) budget for each parent (person) and everything linked to it.

    parent_columns / child_columns map the synthesized columns to their declarations (bounds, categories, bins,
    nullable, as for one table); context names parent columns copied onto child rows, most important first.
    parent_share of the zCDP budget goes to the parent fit, the rest to the child fit. bounding_key makes the choice
    of kept children reproducible (None: a fresh random key). rng=None draws noise from the OS CSPRNG.
    """
    context = tuple(context)
    plan = _plan(parents.schema, children.schema, parent_key=parent_key, foreign_key=foreign_key,
                 parent_columns=parent_columns, child_columns=child_columns, context=context,
                 max_children=max_children, epsilon=epsilon, delta=delta, method=method, parent_share=parent_share,
                 child_key=child_key)
    rows = related_rows(parents, children, parent_key=parent_key, foreign_key=foreign_key,
                        parent_columns=list(parent_columns), child_columns=list(child_columns), context=context,
                        max_children=max_children, bounding_key=bounding_key)
    fit = fit_aim if method == "aim" else fit_mst
    # the declarations, not built domains: whatever the fits derive from them (and charge for) applies here too
    parent_model = fit(rows.parents, plan.parent_spec, epsilon=plan.parent_epsilon, delta=delta, rng=rng)
    child_model = fit(rows.children, plan.child_spec, epsilon=plan.child_epsilon, delta=delta, rng=rng)
    return RelatedModel(
        parents=parent_model,
        children=child_model,
        parent_key=parent_key,
        foreign_key=foreign_key,
        child_key=child_key,
        child_columns=tuple(child_columns),
        context=context,
        max_children=max_children,
        method=method,
        epsilon=float(epsilon),
        delta=float(delta),
        rho=plan.rho,
        rho_parent=plan.rho_parent,
        rho_child=plan.rho_child,
    )
