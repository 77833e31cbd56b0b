"""The attacks on k-anonymity's output order, done as an attacker would, each asserting that it gains nothing.

The attacker knows the input file and its row order, the published output and its report, and (for the seeded
runs) the seed; never the secret. The input carries a `row` column numbering its rows: ground truth the tests use
to score the attacker's guesses, never something the attacker reads. Counts of correct guesses are compared with
what guessing at random gives, with bounds about 5 standard deviations wide (false alarms below 1e-6).
"""

import json
import math
from collections import Counter, defaultdict

import pytest
from janedoe.k_anonymity import AnonymizationConfig, anonymize, read_hierarchy_csv

QIS = ["age", "sex", "race"]
SENSITIVE = "education"
K, L, T = 5, 2, 0.15
SECRET = b"kanon-row-order-secret-0001"
OTHER_SECRET = b"a-different-secret-of-32-bytes!!"


@pytest.fixture(scope="module")
def release(adult, adult_hierarchy_path, reference):
    """Adult with its rows numbered, and how to anonymize it (lattice search, k, l, t and suppression)."""
    config = AnonymizationConfig(
        QIS, K, hierarchies={name: read_hierarchy_csv(adult_hierarchy_path(name)) for name in QIS},
        sensitive=[SENSITIVE], l=L, t=T, t_distance="ordered", max_suppression=0.05,
    )
    return reference.with_row_ids(adult), config


def rows_of(table, names):
    return list(zip(*[table.column(name).to_pylist() for name in names], strict=True))


def kept_rows_in_input_order(result):
    """What the attacker can compute from the input and the published generalization: the kept rows, in order."""
    return [row for row, suppressed in enumerate(result.generalization.suppressed.tolist()) if not suppressed]


def spearman(first: list, second: list) -> float:
    """Rank correlation of two lists of distinct numbers."""
    n = len(first)

    def ranks(values):
        order = sorted(range(n), key=values.__getitem__)
        rank = [0] * n
        for position, index in enumerate(order):
            rank[index] = position
        return rank

    a, b = ranks(first), ranks(second)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) / (n * (n * n - 1))


def positions_agreeing(first: list, second: list) -> int:
    return sum(x == y for x, y in zip(first, second, strict=True))


# A uniformly random permutation leaves about Poisson(1) rows in place: P(X >= 11) < 1e-8.
CHANCE_FIXED_POINTS = 10


def test_linking_by_position_is_no_better_than_chance(release):
    """The attacker pairs the j-th output row with the j-th kept input row (we even tell them which rows were
    suppressed). Before the shuffle this linked every row back; now it hits as often as a random guess."""
    table, config = release
    result = anonymize(table, config)
    truth = result.table.column("row").to_pylist()
    guess = kept_rows_in_input_order(result)
    assert len(guess) == len(truth) > 25_000
    assert positions_agreeing(guess, truth) <= CHANCE_FIXED_POINTS
    # nor does the order keep a trace of the input order
    assert abs(spearman(guess, truth)) * math.sqrt(len(truth) - 1) < 5


def test_linking_by_position_within_each_class_is_no_better_than_chance(release):
    """The strongest positional attack: within each equivalence class, the m-th published row is taken to be
    the m-th input row of that class. Guessing at random within a class of size s is right 1/s of the time, so
    chance is one correct guess per class (variance one per class)."""
    table, config = release
    result = anonymize(table, config)
    output_class = rows_of(result.table, QIS)
    truth = result.table.column("row").to_pylist()
    class_of_input_row = dict(zip(truth, output_class, strict=True))  # the attacker recomputes this from the input
    input_rows_of_class = defaultdict(list)
    for row in kept_rows_in_input_order(result):
        input_rows_of_class[class_of_input_row[row]].append(row)
    seen = Counter()
    correct = 0
    for label, true_row in zip(output_class, truth, strict=True):
        correct += input_rows_of_class[label][seen[label]] == true_row
        seen[label] += 1
    classes = len(input_rows_of_class)
    assert correct <= classes + 5 * math.sqrt(classes), (correct, classes)


def test_the_seed_alone_does_not_reproduce_the_order(release):
    """The attacker knows the seed and reruns the tool with it, with their own key or with none; the order they
    get predicts the published one no better than chance."""
    table, config = release
    published = anonymize(table, config, secret=SECRET, seed=7)
    assert published.report["row_order"] == "keyed"
    truth = published.table.column("row").to_pylist()
    for attempt in (anonymize(table, config, secret=OTHER_SECRET, seed=7), anonymize(table, config, seed=7)):
        guess = attempt.table.column("row").to_pylist()
        assert positions_agreeing(guess, truth) <= CHANCE_FIXED_POINTS
        assert abs(spearman(guess, truth)) * math.sqrt(len(truth) - 1) < 5
    assert anonymize(table, config, seed=7).report["row_order"] == "random"


def test_a_seed_reproduces_the_order_only_with_the_same_secret(release):
    table, config = release
    first = anonymize(table, config, secret=SECRET, seed=7)
    again = anonymize(table, config, secret=SECRET, seed=7)
    assert first.table.equals(again.table)
    other_seed = anonymize(table, config, secret=SECRET, seed=8).table.column("row").to_pylist()
    assert positions_agreeing(other_seed, first.table.column("row").to_pylist()) <= CHANCE_FIXED_POINTS


def test_k_l_and_t_still_hold_after_the_shuffle(release, reference):
    table, config = release
    result = anonymize(table, config, secret=SECRET, seed=7)
    rows = rows_of(result.table, QIS)
    education = result.table.column(SENSITIVE).to_pylist()
    assert reference.k_of(rows) >= K
    assert reference.distinct_l(rows, education) >= L
    assert reference.ordered_t(rows, education, table.column(SENSITIVE).to_pylist()) <= T + 1e-12
    # the shuffle only moved rows: the same published rows as an unseeded run, as a multiset
    plain = anonymize(table, config).table
    assert Counter(rows_of(result.table, result.table.column_names)) == Counter(rows_of(plain, plain.column_names))


def test_the_report_carries_no_row_positions(release):
    """Nothing in the report (written next to the output) names input rows, e.g. the suppressed ones: every list
    in it holds names or per-class-size summaries, never numbers."""
    table, config = release
    report = json.loads(json.dumps(anonymize(table, config).report))
    assert report["utility"]["suppressed_records"] > 0

    def lists(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from lists(value)
        elif isinstance(node, list):
            yield node
            for value in node:
                yield from lists(value)

    for found in lists(report):
        assert all(isinstance(item, str | dict) for item in found), found


def test_a_short_secret_is_refused_for_a_seeded_order(release):
    from janedoe.errors import JaneDoeInputError

    table, config = release
    with pytest.raises(JaneDoeInputError, match="16 bytes"):
        anonymize(table, config, secret=b"too-short", seed=7)
