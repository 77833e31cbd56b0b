"""Differential privacy with exact samplers: noise, mechanisms, accounting and queries over Arrow tables."""

from janedoe.dp_noise.accountant import (
    Accountant,
    PrivacyCost,
    budget_kind,
    charge_in_kind,
    compose_parallel,
    compose_sequential,
)
from janedoe.dp_noise.accuracy import epsilon_for_accuracy
from janedoe.dp_noise.answers import GroupAnswer, QueryAnswer
from janedoe.dp_noise.conversions import (
    epsilon_from_rho_delta,
    rho_from_epsilon_delta,
    rho_from_pure_epsilon,
    rho_of_exponential_mechanism,
    rho_of_gaussian,
)
from janedoe.dp_noise.grid import NoisyRelease, gaussian_mechanism, laplace_mechanism
from janedoe.dp_noise.mechanisms import (
    geometric_mechanism,
    key_selection_threshold,
    randomized_response,
    sparse_vector,
)
from janedoe.dp_noise.queries import bound_contributions, run_query
from janedoe.dp_noise.query_parser import AGGREGATES, Query, parse_query
from janedoe.dp_noise.samplers import (
    MAX_GAUSSIAN_SIGMA,
    discrete_gaussian,
    discrete_laplace,
    exact_gaussian_sigma,
    exact_laplace_scale,
)
from janedoe.dp_noise.selection import exponential_mechanism, report_noisy_max

__all__ = [
    "AGGREGATES",
    "Accountant",
    "GroupAnswer",
    "MAX_GAUSSIAN_SIGMA",
    "NoisyRelease",
    "PrivacyCost",
    "Query",
    "QueryAnswer",
    "bound_contributions",
    "budget_kind",
    "charge_in_kind",
    "compose_parallel",
    "compose_sequential",
    "discrete_gaussian",
    "discrete_laplace",
    "epsilon_for_accuracy",
    "epsilon_from_rho_delta",
    "exact_gaussian_sigma",
    "exact_laplace_scale",
    "exponential_mechanism",
    "gaussian_mechanism",
    "geometric_mechanism",
    "key_selection_threshold",
    "laplace_mechanism",
    "parse_query",
    "randomized_response",
    "report_noisy_max",
    "rho_from_epsilon_delta",
    "rho_from_pure_epsilon",
    "rho_of_exponential_mechanism",
    "rho_of_gaussian",
    "run_query",
    "sparse_vector",
]
