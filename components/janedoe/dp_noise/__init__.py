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
from janedoe.dp_noise.contribution_bounding import bound_contributions, checked_bounding_key, row_ranks
from janedoe.dp_noise.conversions import (
    epsilon_from_rho_delta,
    rho_from_epsilon_delta,
    rho_from_pure_epsilon,
    rho_of_exponential_mechanism,
    rho_of_gaussian,
)
from janedoe.dp_noise.fp_safe_mechanisms import NoisyRelease, gaussian_mechanism, laplace_mechanism
from janedoe.dp_noise.mechanisms import (
    geometric_mechanism,
    key_selection_threshold,
    randomized_response,
    sparse_vector,
)
from janedoe.dp_noise.queries import run_query
from janedoe.dp_noise.query_parser import AGGREGATES, Query, parse_query
from janedoe.dp_noise.query_plan import QueryPlan, plan_query, query_cost
from janedoe.dp_noise.query_release import release_query
from janedoe.dp_noise.query_statistics import QueryStatistics, feature_totals, statistics_from_totals
from janedoe.dp_noise.row_features import RowFeatures
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
    "QueryPlan",
    "QueryStatistics",
    "RowFeatures",
    "bound_contributions",
    "budget_kind",
    "charge_in_kind",
    "checked_bounding_key",
    "compose_parallel",
    "compose_sequential",
    "discrete_gaussian",
    "discrete_laplace",
    "epsilon_for_accuracy",
    "epsilon_from_rho_delta",
    "exact_gaussian_sigma",
    "exact_laplace_scale",
    "exponential_mechanism",
    "feature_totals",
    "gaussian_mechanism",
    "geometric_mechanism",
    "key_selection_threshold",
    "laplace_mechanism",
    "parse_query",
    "plan_query",
    "query_cost",
    "randomized_response",
    "release_query",
    "report_noisy_max",
    "rho_from_epsilon_delta",
    "rho_from_pure_epsilon",
    "rho_of_exponential_mechanism",
    "rho_of_gaussian",
    "row_ranks",
    "run_query",
    "sparse_vector",
    "statistics_from_totals",
]
