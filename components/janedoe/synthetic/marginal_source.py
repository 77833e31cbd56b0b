"""Exact marginal counts from either engine: a query names every marginal a fit needs, a source answers it in one pass.

MST and AIM fit from counts only. A MarginalQuery is public (built from the policy's declared domain and, for MST's
second look, from already-noisy compressions), so it can travel to workers; `count_batch` is the one implementation
of the counting, run here over Arrow batches or inside Spark tasks, into one int64 vector whose partial sums add up
exactly whatever the partitioning. The counts a source returns are private: they stay with the caller until noise
is added.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
import pyarrow as pa
from janedoe.synthetic.domain import Domain, encode

Marginal = tuple[int, ...]  # column positions in the domain, e.g. (0,) or (1, 3)


@dataclass(frozen=True)
class MarginalCounts:
    """Exact counts, one int64 array per queried marginal (shaped by its cells), and the records counted."""

    arrays: tuple[np.ndarray, ...]
    rows: int


@dataclass(frozen=True)
class MarginalQuery:
    """Marginals to count over a domain. cell_maps (one per column) first maps each cell to a coarser cell."""

    domain: Domain
    marginals: tuple[Marginal, ...]
    cell_maps: tuple[np.ndarray, ...] | None = None

    def __post_init__(self) -> None:
        if any(not marginal for marginal in self.marginals):
            raise ValueError("a marginal needs at least one column")

    @property
    def sizes(self) -> list[int]:
        """Cells per column after the cell maps."""
        if self.cell_maps is None:
            return self.domain.sizes
        return [int(cell_map.max()) + 1 for cell_map in self.cell_maps]

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        sizes = self.sizes
        return [tuple(sizes[column] for column in marginal) for marginal in self.marginals]

    @property
    def offsets(self) -> np.ndarray:
        """Where each marginal starts in the flat vector; the vector's last slot counts the records."""
        return np.concatenate([[0], np.cumsum([int(np.prod(shape)) for shape in self.shapes])]).astype(np.int64)

    def zeros(self) -> np.ndarray:
        return np.zeros(int(self.offsets[-1]) + 1, dtype=np.int64)

    def count_batch(self, batch: pa.RecordBatch | pa.Table, totals: np.ndarray) -> None:
        """Add one batch's counts to `totals` (a vector from zeros()). Records outside the domain are left out."""
        codes = encode(batch, self.domain)
        if self.cell_maps is not None:
            codes = np.column_stack([cell_map[codes[:, column]] for column, cell_map in enumerate(self.cell_maps)])
        offsets = self.offsets
        for position, (marginal, shape) in enumerate(zip(self.marginals, self.shapes, strict=True)):
            start, stop = int(offsets[position]), int(offsets[position + 1])
            flat = np.ravel_multi_index(tuple(codes[:, column] for column in marginal), shape)
            totals[start:stop] += np.bincount(flat, minlength=stop - start)
        totals[-1] += codes.shape[0]

    def split(self, totals: np.ndarray) -> MarginalCounts:
        """The summed vector as one array per marginal."""
        offsets = self.offsets
        if totals.shape != (int(offsets[-1]) + 1,):
            raise ValueError("the count vector does not match the query")
        arrays = tuple(totals[int(offsets[i]) : int(offsets[i + 1])].reshape(shape)
                       for i, shape in enumerate(self.shapes))
        return MarginalCounts(arrays, int(totals[-1]))


@runtime_checkable
class MarginalSource(Protocol):
    """Anything that answers a MarginalQuery with one pass over a table of this schema (a local reader, Spark)."""

    @property
    def schema(self) -> pa.Schema: ...

    def count(self, query: MarginalQuery) -> MarginalCounts: ...


@dataclass(frozen=True)
class BatchMarginalSource:
    """Counts in this process from a callable giving a fresh iterator of Arrow batches on each call."""

    read: Callable[[], Iterable[pa.RecordBatch | pa.Table]]
    schema: pa.Schema

    def count(self, query: MarginalQuery) -> MarginalCounts:
        totals = query.zeros()
        for batch in self.read():
            query.count_batch(batch, totals)
        return query.split(totals)


BatchSource: TypeAlias = pa.Table | Callable[[], Iterable[pa.RecordBatch | pa.Table]] | MarginalSource


def marginal_source(data: BatchSource, schema: pa.Schema | None = None) -> MarginalSource:
    """An Arrow table, a re-readable batch callable (with its schema) or a MarginalSource, as a MarginalSource."""
    if isinstance(data, pa.Table):
        table = data
        return BatchMarginalSource(lambda: table.to_batches(max_chunksize=1 << 18), table.schema)
    if isinstance(data, MarginalSource):
        return data
    if callable(data):
        if schema is None:
            raise TypeError("a batch source needs its schema")
        return BatchMarginalSource(data, schema)
    raise TypeError("data must be an Arrow table, a callable returning record batches, or a MarginalSource")


def total_cells(sizes: Sequence[int], marginals: Sequence[Marginal]) -> int:
    return sum(int(np.prod([sizes[column] for column in marginal])) for marginal in marginals)
