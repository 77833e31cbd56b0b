"""AIM (McKenna, Mullins, Sheldon, Miklau 2022): adaptive, iterative selection of marginals to measure.

The workload is every 2-way to k-way marginal (k = 3 by default); the candidates are its downward closure, each
weighted by how much it overlaps the workload. With T = 16 * columns rounds planned, every 1-way marginal is measured
first with sigma = sqrt(T / (2 * 0.9 rho)); then each round spends eps^2/8 (eps = sqrt(8 * 0.1 rho / T)) to choose,
by the exponential mechanism, the candidate whose model error most exceeds its expected noise, and 1/(2 sigma^2)
to measure it with discrete Gaussian noise. Candidates whose addition would push the junction tree past a size limit
(growing with the share of budget spent) are left out. When a measurement barely moves the model, sigma halves and eps
doubles; the last round takes exactly the budget left, so the spent rho (recomputed from the noise) is the budget.
Each round's estimate is warm-started from the previous potentials with fewer mirror-descent steps on bigger models
(work per round bounded); the last estimate runs the longest.

With a target or a workload (workload.py), the focus marginals (every 2- to k-way set holding a target, and the
workload's sets) weigh FOCUS_WEIGHT times as much as the others in the candidates' weights, and the 2-way marginals
inside the focus (target x each column, pairs within workload sets) are measured first, beside the 1-ways and with
their sigma, up to a quarter of the planned rounds and within the size limit for the budget share they use. The
rounds then select among all candidates as usual, so the spent rho is still the budget.
"""

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
from janedoe.dp_noise import (
    MAX_GAUSSIAN_SIGMA,
    discrete_gaussian,
    exact_gaussian_sigma,
    exponential_mechanism,
    rho_from_epsilon_delta,
)
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.domain import Domain, build_domain
from janedoe.synthetic.junction_sampling import sample_model
from janedoe.synthetic.junction_tree import Clique, GraphicalModel, Measurement, cells, estimate_model, model_bytes
from janedoe.synthetic.marginal_source import BatchSource, MarginalQuery, marginal_source
from janedoe.synthetic.mst import NoiseRecord, validate_budget
from janedoe.synthetic.private_model import PrivateModel
from janedoe.synthetic.workload import Focus, resolve_focus

# The paper's default is 80 MB. With numpy belief propagation every mirror-descent step on an 80 MB model takes
# seconds: at epsilon 10 on Adult the model grew past 20 MB and a fit took > 100 s; at 8 MB it takes ~25 CPU s
# with 2-way TV 0.025. At epsilon <= 1 the models stay far below 8 MB, so the limit only binds when noise is small.
DEFAULT_MAX_MODEL_MB = 8.0
_MEGABYTE = 2.0**20
# mirror-descent steps are scaled down on models larger than this many cells, so a round's work stays bounded: every
# step is a few passes over every clique table, and at the size limit a full schedule would take minutes per round
_FULL_SCHEDULE_CELLS = 2**16
# how much more a focus marginal (one holding a target, or a workload set) weighs in AIM's candidate weights
FOCUS_WEIGHT = 2


@dataclass(frozen=True)
class AimModel(PrivateModel):
    """A fitted AIM model: only differentially private quantities (never a row of the input)."""

    domain: Domain
    schema: pa.Schema
    model: GraphicalModel
    measured: tuple[tuple[str, ...], ...]
    epsilon: float
    delta: float
    rho: float
    noise: tuple[NoiseRecord, ...]

    @property
    def estimated_rows(self) -> int:
        return max(1, int(round(self.model.total)))

    def sample_codes(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        return sample_model(self.model, rows, rng)


def check_aim(domain: Domain, epsilon: float, delta: float, *, max_model_mb: float = DEFAULT_MAX_MODEL_MB,
              rounds: int | None = None, target=None, workload=None) -> None:
    """Refuse a budget, size limit, target or workload AIM cannot work with; needs no data, so it runs before
    anything is charged."""
    validate_budget(epsilon, delta)
    focus = resolve_focus(domain.names, target, workload)
    if not (isinstance(max_model_mb, int | float) and max_model_mb > 0):
        raise JaneDoeInputError("the model size limit must be a positive number of megabytes", where="max_model_mb")
    sizes, width = domain.sizes, len(domain.names)
    limit = max_model_mb * _MEGABYTE
    if 8 * sum(sizes) > limit or (width > 1 and min(
            model_bytes(sizes, [(a, b)]) for a, b in itertools.combinations(range(width), 2)) > limit):
        raise JaneDoeInputError(
            f"the domain is too large for AIM's model size limit ({max_model_mb:g} MB): not even one 2-way marginal "
            "fits; declare fewer categories or bins, or raise the limit", where="synthetic.max_model_mb")
    for i, marginal in enumerate(focus.workload):
        if 8 * cells(sizes, marginal) > limit:
            raise JaneDoeInputError(f"the marginal does not fit AIM's model size limit ({max_model_mb:g} MB)",
                                    where=f"synthetic.workload[{i}]")
    rho = float(rho_from_epsilon_delta(epsilon, delta))
    if not rho > 0 or math.sqrt((rounds or 16 * width) / (2.0 * 0.9 * rho)) > MAX_GAUSSIAN_SIGMA:
        raise JaneDoeInputError("epsilon is too small for this many columns: the noise would swamp every count",
                                where="epsilon")


def _dyadic_epsilon(epsilon: float, largest_gap: float, sensitivity: int) -> Fraction:
    """epsilon rounded down onto a power-of-two grid that keeps the exact sampler's integers inside int64.

    The exponential mechanism works with epsilon / (2 * sensitivity) and integer score gaps: both the numerators
    (gap times epsilon's numerator) and the denominator must stay below 2^62. Rounding down only spends less, and the
    recorded epsilon is the one used.
    """
    bits = 52
    while bits > 0 and ((largest_gap + 1.0) * math.floor(epsilon * 2.0**bits) >= 2.0**60
                        or 2.0 ** (bits + 1) * sensitivity >= 2.0**61):
        bits -= 1
    return Fraction(math.floor(epsilon * 2.0**bits), 2**bits)


def _candidates(sizes: list[int], degree: int, limit_bytes: float, focus: Focus | None = None) -> dict[Clique, int]:
    """Downward closure of the workload (every 2- to `degree`-way marginal that fits the limit, and the focus ones),
    AIM's weights: a focus marginal counts FOCUS_WEIGHT times."""
    width, focus = len(sizes), focus or Focus()
    weights = {q: 1 for k in range(2, degree + 1) for q in itertools.combinations(range(width), k)
               if 8 * cells(sizes, q) <= limit_bytes}
    for q in focus.marginals(width, degree):
        if 8 * cells(sizes, q) <= limit_bytes:
            weights[q] = FOCUS_WEIGHT
    closure = {s for q in weights for k in range(1, len(q) + 1) for s in itertools.combinations(q, k)}
    closure |= {(a,) for a in range(width)}
    return {c: max(1, sum(w * len(set(c) & set(q)) for q, w in weights.items()))
            for c in sorted(closure, key=lambda c: (len(c), c))}


def _measured_first(sizes: list[int], focus: Focus, candidates: dict[Clique, int], rounds: int,
                    limit_bytes: float) -> list[Clique]:
    """The focus 2-ways measured beside the 1-ways: at most rounds // 4, and the model within the size limit for the
    share of the budget spent so far (each costs 0.9 / rounds of it, like a 1-way)."""
    width = len(sizes)
    chosen: list[Clique] = []
    for pair in focus.pairs(width):
        if len(chosen) >= rounds // 4:
            break
        share = 0.9 * (width + len(chosen) + 1) / rounds
        if pair in candidates and model_bytes(sizes, [*chosen, pair]) <= limit_bytes * share:
            chosen.append(pair)
    return chosen


def _steps(planned: int, model_cells: int, least: int) -> int:
    """Mirror-descent steps for a warm-started estimate: `planned` on small models, proportionally fewer on big ones."""
    return max(min(least, planned), min(planned, planned * _FULL_SCHEDULE_CELLS // max(model_cells, 1)))


def _projections(model: GraphicalModel, wanted: list[Clique]) -> dict[Clique, np.ndarray]:
    """The model's marginal on every wanted set, widest first, each lower one summed from a projected superset.

    The model is one consistent distribution, so summing a 3-way projection gives its 2-way ones: one pass over a
    big clique (or one contraction across cliques) per widest set instead of one per set.
    """
    projected: dict[Clique, np.ndarray] = {}
    for c in sorted(wanted, key=len, reverse=True):
        wider = [tuple(sorted((*c, a))) for a in range(len(model.tree.sizes)) if a not in c]
        wider = [w for w in wider if w in projected]
        if wider:
            source = min(wider, key=lambda w: projected[w].size)
            extra = next(k for k, a in enumerate(source) if a not in c)
            projected[c] = projected[source].sum(axis=extra)
        else:
            projected[c] = model.project(c)
    return projected


def fit_aim(data: BatchSource, domain_spec: Mapping | Domain, *, epsilon: float, delta: float,
            schema: pa.Schema | None = None, rng: np.random.Generator | None = None,
            max_model_mb: float = DEFAULT_MAX_MODEL_MB, degree: int = 3, rounds: int | None = None,
            round_iterations: int = 100, final_iterations: int = 500, target=None, workload=None) -> AimModel:
    """Fit AIM under (epsilon, delta)-DP. rng=None draws the noise from the OS CSPRNG; a Generator is for tests.

    data is read once, like fit_mst's. max_model_mb bounds the junction tree's float64 clique tables; degree is the
    workload's marginal width. target (a column or a list) and workload (lists of columns) are measured first.
    """
    source = marginal_source(data, schema)
    schema = source.schema
    domain = domain_spec if isinstance(domain_spec, Domain) else build_domain(schema, domain_spec)
    check_aim(domain, epsilon, delta, max_model_mb=max_model_mb, rounds=rounds, target=target, workload=workload)
    focus = resolve_focus(domain.names, target, workload)
    names, sizes, width = domain.names, domain.sizes, len(domain.names)
    limit = max_model_mb * _MEGABYTE
    rho = float(rho_from_epsilon_delta(epsilon, delta))
    rounds = rounds or 16 * width
    sigma = math.sqrt(rounds / (2.0 * 0.9 * rho))
    candidates = _candidates(sizes, degree, limit, focus)
    # one pass over the data: exact counts of every candidate marginal (these stay private, in memory only)
    counted = source.count(MarginalQuery(domain, tuple(candidates)))
    answers = {c: counts.astype(np.float64) for c, counts in zip(candidates, counted.arrays, strict=True)}
    largest_weight = max(candidates.values())
    noise: list[NoiseRecord] = []
    measurements: list[Measurement] = []

    def measure(clique: Clique, scale) -> None:
        exact = answers[clique]
        noisy = exact + discrete_gaussian(scale, exact.size, rng=rng).reshape(exact.shape)
        noise.append(NoiseRecord("discrete_gaussian", tuple(names[a] for a in clique), sigma=float(scale)))
        measurements.append(Measurement(clique, noisy, float(scale)))

    # a single column has nothing to select: its 1-way marginal takes the whole budget
    exact_sigma = exact_gaussian_sigma(sigma if width > 1 else math.sqrt(1.0 / (2.0 * rho)))
    for attribute in range(width):
        measure((attribute,), exact_sigma)
    for pair in _measured_first(sizes, focus, candidates, rounds, limit) if width > 1 else []:
        measure(pair, exact_sigma)
    model = estimate_model(sizes, measurements, iterations=round_iterations)
    selection_epsilon = math.sqrt(8.0 * 0.1 * rho / rounds)
    spent = sum(record.rho for record in noise)
    finished = width == 1
    while not finished:
        remaining = rho - spent
        if remaining < 2.0 * (1.0 / (2.0 * sigma**2) + selection_epsilon**2 / 8.0):
            sigma = math.sqrt(1.0 / (2.0 * 0.9 * remaining))
            selection_epsilon = math.sqrt(8.0 * 0.1 * remaining)
            finished = True
        round_spent = spent + selection_epsilon**2 / 8.0 + 1.0 / (2.0 * sigma**2)
        size_limit = limit * round_spent / rho
        free = {s for c in model.tree.cliques for k in range(1, len(c) + 1) for s in itertools.combinations(c, k)}
        current = model.tree.cliques  # the model's cliques cover every measurement (and the fill it needed)
        allowed = [c for c in candidates if c in free or model_bytes(sizes, [*current, c]) <= size_limit]
        projected = _projections(model, allowed)
        scores = []
        for c in allowed:
            error = float(np.abs(answers[c] - projected[c]).sum())
            bias = math.sqrt(2.0 / math.pi) * sigma * answers[c].size
            # floor keeps the integer sensitivity (weight <= largest_weight) and makes the scores exact integers
            scores.append(float(np.floor(candidates[c] * (error - bias))))
        scores_array = np.array(scores)
        gap = float(scores_array.max() - scores_array.min())
        if finished:
            # the last round: sigma from 0.9 of the remainder (rounded up onto the sampler's grid), and the
            # selection takes exactly what is left, so the spent rho adds up to the budget
            exact_sigma = exact_gaussian_sigma(sigma)
            eps_used = _dyadic_epsilon(math.sqrt(8.0 * (rho - spent - 1.0 / (2.0 * float(exact_sigma) ** 2))), gap,
                                       largest_weight)
        else:
            exact_sigma = exact_gaussian_sigma(sigma)
            eps_used = _dyadic_epsilon(selection_epsilon, gap, largest_weight)
        chosen = allowed[int(exponential_mechanism(scores_array, eps_used, float(largest_weight), rng=rng))]
        noise.append(NoiseRecord("exponential", tuple(names[a] for a in chosen), epsilon=float(eps_used)))
        before = model.project(chosen)
        measure(chosen, exact_sigma)
        spent = sum(record.rho for record in noise)
        model_cells = model_bytes(sizes, [*current, chosen]) // 8
        model = estimate_model(sizes, measurements, previous=model,
                               iterations=_steps(final_iterations, model_cells, 100) if finished else
                               _steps(round_iterations, model_cells, 10))
        after = model.project(chosen)
        if not finished and np.abs(after - before).sum() <= math.sqrt(2.0 / math.pi) * sigma * before.size:
            sigma /= 2.0
            selection_epsilon *= 2.0
    if width == 1:
        model = estimate_model(sizes, measurements, iterations=final_iterations)
    return AimModel(
        domain=domain,
        schema=pa.schema([schema.field(name) for name in names]),
        model=model,
        measured=tuple(tuple(names[a] for a in m.attributes) for m in measurements),
        epsilon=float(epsilon),
        delta=float(delta),
        rho=rho,
        noise=tuple(noise),
    )
