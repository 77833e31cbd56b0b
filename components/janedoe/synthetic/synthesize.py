"""One call from a policy section to a synthetic table: fit the chosen method, sample, and say what it cost."""

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from janedoe.dp_noise import PrivacyCost, rho_from_epsilon_delta
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.aim import AimModel, check_aim, fit_aim
from janedoe.synthetic.domain import build_domain
from janedoe.synthetic.dp_binning import epsilon_for_synthesizer, measure_private_bins, private_domain_options
from janedoe.synthetic.marginal_source import BatchSource, marginal_source
from janedoe.synthetic.mst import FittedModel, check_mst, fit_mst, validate_budget


@dataclass(frozen=True)
class SynthesisResult:
    table: pa.Table
    model: FittedModel | AimModel
    method: str
    epsilon: float
    delta: float
    rho: float
    fit_seconds: float
    sample_seconds: float


def _field(section, name: str):
    return section.get(name) if isinstance(section, Mapping) else getattr(section, name, None)


def _budget(section) -> tuple[str, float, float]:
    # MST also with a target: with its extra target edges it predicted as well as AIM on Adult, at a tenth of the
    # CPU time (bench/results/synthetic_target.md)
    method = _field(section, "method") or "mst"
    if method not in ("mst", "aim"):
        raise JaneDoeInputError("the synthetic method must be mst or aim", where="synthetic.method")
    epsilon, delta = _field(section, "epsilon"), _field(section, "delta")
    if epsilon is None:
        raise JaneDoeInputError("the synthetic section needs epsilon", where="synthetic.epsilon")
    delta = 1e-9 if delta is None else delta
    validate_budget(epsilon, delta)
    return method, epsilon, delta


def check_synthesis(schema: pa.Schema, section, columns: Mapping) -> None:
    """Refuse a bad method, budget, column declaration or model size before anything is charged (reads only the
    schema): after this, fitting cannot fail on the data (records that do not fit the domain are clipped or dropped,
    see domain.py)."""
    method, epsilon, delta = _budget(section)
    domain = build_domain(schema, columns, **_discretize(section))
    epsilon = epsilon_for_synthesizer(domain, epsilon, delta)  # what the method may spend once bins are measured
    if method == "aim":
        check_aim(domain, epsilon, delta, **_aim_options(section), **_focus(section))
    else:
        check_mst(domain, epsilon, delta, **_focus(section))


def _focus(section) -> dict:
    """The section's target columns and workload marginals (validated against the table by the fit)."""
    return {"target": _field(section, "target"), "workload": _field(section, "workload")}


def _discretize(section) -> Mapping:
    """Private bins (the default) or equal-width ones for numeric columns without declared bins (dp_binning.py)."""
    return private_domain_options(_field(section, "discretize"), _field(section, "private_bins"))


def _aim_options(section) -> dict:
    max_model_mb = _field(section, "max_model_mb")
    return {} if max_model_mb is None else {"max_model_mb": max_model_mb}


def synthesis_cost(section) -> PrivacyCost:
    """What a ledger should charge before any noise is drawn: rho-zCDP, and (epsilon, delta)-DP by the conversion."""
    _, epsilon, delta = _budget(section)
    return PrivacyCost(epsilon=epsilon, delta=delta, rho=rho_from_epsilon_delta(epsilon, delta))


def fit_synthesis_model(data: BatchSource, section, columns: Mapping, *,
                        schema: pa.Schema | None = None) -> FittedModel | AimModel:
    """The section's method fitted under its budget; the noise comes from the OS CSPRNG, drawn where this runs.

    data is an Arrow table, a re-readable batch source with its `schema`, or a MarginalSource (see fit_mst).
    Numeric columns without declared bins get private bins first, from the same budget (dp_binning.py).
    """
    method, epsilon, delta = _budget(section)
    source = marginal_source(data, schema)
    check_synthesis(source.schema, section, columns)  # every refusal before the bins' noise is drawn
    binned = measure_private_bins(source, build_domain(source.schema, columns, **_discretize(section)),
                                  epsilon=epsilon, delta=delta)
    domain, epsilon = binned.domain, binned.epsilon  # the method spends what the bins left
    if method == "aim":
        return binned.account(fit_aim(source, domain, epsilon=epsilon, delta=delta, schema=schema,
                                      **_aim_options(section), **_focus(section)))
    return binned.account(fit_mst(source, domain, epsilon=epsilon, delta=delta, schema=schema, **_focus(section)))


def synthesis_rows(model: FittedModel | AimModel, section, rows: int | None = None) -> int:
    """Rows to sample: the caller's, else the section's, else the model's noisy count."""
    rows = rows if rows is not None else _field(section, "rows")
    rows = model.estimated_rows if rows is None else int(rows)
    if rows < 0:
        raise JaneDoeInputError("the number of rows must be non-negative", where="rows")
    return rows


def synthesize(data: BatchSource, section, columns: Mapping, *, rows: int | None = None, seed: int | None = None,
               schema: pa.Schema | None = None) -> SynthesisResult:
    """Fit on `data` under the section's budget and sample `rows` (else the section's rows, else the noisy count).

    data is an Arrow table or a re-readable batch source with its `schema` (see fit_mst). The noise always comes from
    the OS CSPRNG; `seed` only makes the sampling step (post-processing) reproducible.
    """
    method = _budget(section)[0]
    started = time.perf_counter()
    model = fit_synthesis_model(data, section, columns, schema=schema)
    fitted = time.perf_counter()
    synthetic = model.sample(synthesis_rows(model, section, rows), np.random.default_rng(seed))
    sampled = time.perf_counter()
    return SynthesisResult(
        table=synthetic,
        model=model,
        method=method,
        epsilon=model.epsilon,
        delta=model.delta,
        rho=model.rho_spent,
        fit_seconds=fitted - started,
        sample_seconds=sampled - fitted,
    )
