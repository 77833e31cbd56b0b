"""What a fitted MST or AIM model shares: the privacy it spent, and rows sampled with the input's schema."""

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.domain import Domain, decode

if TYPE_CHECKING:
    from janedoe.synthetic.mst import NoiseRecord


class PrivateModel:
    """Mixed into the frozen model dataclasses, which provide domain, schema, noise, estimated_rows, sample_codes."""

    domain: Domain
    schema: pa.Schema
    noise: tuple["NoiseRecord", ...]

    @property
    def estimated_rows(self) -> int:
        raise NotImplementedError

    def sample_codes(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


    @property
    def rho_spent(self) -> float:
        return float(sum(record.rho for record in self.noise))

    def sample(self, rows: int | None = None, rng: np.random.Generator | int | None = None) -> pa.Table:
        """Synthetic rows with the input's schema (post-processing: costs no privacy)."""
        rng = np.random.default_rng(rng)
        rows = self.estimated_rows if rows is None else int(rows)
        if rows < 0:
            raise JaneDoeInputError("the number of rows must be non-negative", where="rows")
        return decode(self.sample_codes(rows, rng), self.domain, self.schema, rng)
