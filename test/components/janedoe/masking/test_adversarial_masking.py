"""Attacks on masked outputs, done as an attacker would, each asserting that the attack gains nothing.

The attacker sees masked outputs (as many as they like), knows the policy and the seed, may know some originals, and
does not know the secret.
"""

import zlib

import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.masking import build_table_masker, mask_file, policy_needs_secret
from janedoe.tabular import read_table, write_table_atomic
from scipy import stats

from .helpers import SECRET, mask_column, parse_policy_dict, policy_for

SALARIES = np.random.default_rng(11).integers(20_000, 200_000, 2_000).astype(np.float64)


def _noise_policy(**rule):
    salary = {"mask": "noise", "ratio": 0.1, **rule}
    return parse_policy_dict({"version": 1, "tables": {"people": {"columns": {"id": "keep", "salary": salary}}}})


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.parquet"
    write_table_atomic(pa.table({"id": np.arange(len(SALARIES)), "salary": SALARIES}), path)
    return path


def _mean_abs_error(runs: list[np.ndarray]) -> float:
    return float(np.mean(np.abs(np.mean(runs, axis=0) - SALARIES)))


def _masked_runs(policy, source, tmp_path, count: int, **options) -> list[np.ndarray]:
    runs = []
    for run in range(count):
        out = tmp_path / f"run{run}.parquet"
        mask_file(policy, source, out, secret=SECRET, **options)
        runs.append(read_table(out).column("salary").to_numpy())
    return runs


@pytest.mark.parametrize("row_key", [None, "id"])
def test_averaging_twenty_runs_gains_nothing_over_one(people, tmp_path, row_key):
    runs = _masked_runs(_noise_policy(row_key=row_key), people, tmp_path, 20)
    assert all(np.array_equal(run, runs[0]) for run in runs)
    assert _mean_abs_error(runs) == pytest.approx(_mean_abs_error(runs[:1]), rel=1e-12)
    assert _mean_abs_error(runs) > 0.04 * SALARIES.mean()


def test_fresh_draws_do_average_away_which_is_why_they_are_opt_in(people, tmp_path):
    runs = _masked_runs(_noise_policy(fresh=True), people, tmp_path, 20)
    assert _mean_abs_error(runs) < 0.35 * _mean_abs_error(runs[:1])  # about 1/sqrt(20) of one run's error


def _old_column_generator(seed: int, column: str) -> np.random.Generator:
    """How a run's draws were derived before they were keyed: from the seed and the column name only."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(column.encode()),)))


def test_brute_forcing_the_seed_recovers_no_salary(people, tmp_path):
    out = tmp_path / "seeded.parquet"
    mask_file(_noise_policy(fresh=True), people, out, secret=SECRET, seed=7)
    noisy = read_table(out).column("salary").to_numpy()
    recovered = 0
    for seed in range(200):
        u = _old_column_generator(seed, "salary").uniform(-0.1, 0.1, len(noisy))
        recovered = max(recovered, int(np.sum(np.isclose(noisy / (1 + u), SALARIES, rtol=1e-9))))
    assert recovered == 0


def test_brute_forcing_the_seed_does_not_undo_a_shuffle(tmp_path):
    values = pa.array(np.arange(5_000))
    for fresh in (False, True):
        shuffled = mask_column(values, {"mask": "shuffle", "fresh": fresh}, seed=7).to_numpy()
        best = 0
        for seed in range(200):
            order = _old_column_generator(seed, "c").permutation(len(shuffled))
            undone = np.empty_like(shuffled)
            undone[order] = shuffled
            best = max(best, int(np.sum(undone == np.arange(len(shuffled)))))
        assert best < 10  # a random guess puts 1 value back in expectation


def test_a_seed_reproduces_a_run_only_with_the_secret():
    values = pa.array(SALARIES)
    rule = {"mask": "noise", "ratio": 0.1, "fresh": True}
    first = mask_column(values, rule, seed=7).to_numpy()
    again = mask_column(values, rule, seed=7).to_numpy()
    other_key = mask_column(values, rule, seed=7, secret=b"someone else's key, 32 bytes...").to_numpy()
    assert np.array_equal(first, again)
    assert abs(stats.pearsonr(first / SALARIES, other_key / SALARIES)[0]) < 0.1


def test_a_seed_for_fresh_draws_needs_the_secret():
    with pytest.raises(JaneDoeInputError, match="needs the secret"):
        mask_column(pa.array([1.0]), {"mask": "noise", "ratio": 0.1, "fresh": True}, seed=7, secret=None)


@pytest.mark.parametrize(
    "rule",
    [
        {"mask": "noise", "ratio": 0.1},
        {"mask": "random_int", "min": 1, "max": 9},
        {"mask": "random_in", "values": [1, 2]},
        {"mask": "shuffle"},
        {"mask": "fake", "kind": "first_name"},
        {"mask": "random_string", "length": 8},
        {"mask": "random_phone"},
        {"mask": "random_id"},
    ],
)
def test_keyed_random_rules_refuse_to_run_without_the_secret(rule):
    policy = policy_for({"c": rule})
    assert policy_needs_secret(policy)
    with pytest.raises(JaneDoeInputError, match="needs a secret"):
        build_table_masker(policy, "t", pa.schema([("c", pa.int64())]), secret=None)


@pytest.mark.parametrize("short", [b"hunter2!", b"password", b"fifteen bytes.."])
def test_a_secret_shorter_than_16_bytes_is_refused_and_not_shown(short):
    with pytest.raises(JaneDoeInputError) as error:
        mask_column(pa.array(["x"]), {"mask": "hash"}, secret=short)
    assert "shorter than 16 bytes" in str(error.value) and short.decode() not in str(error.value)


def test_other_rules_on_one_column_draw_independently_so_two_views_cannot_be_solved_for_the_original():
    values = pa.array(SALARIES)
    narrow = mask_column(values, {"mask": "noise", "ratio": 0.1}).to_numpy()
    wide = mask_column(values, {"mask": "noise", "ratio": 0.2}).to_numpy()
    # With a shared draw u, x = (2*narrow - wide) exactly; with independent draws it is off by several percent.
    solved = 2 * narrow - wide
    assert np.mean(np.isclose(solved, SALARIES, rtol=1e-6)) < 0.01


def test_row_key_gives_equal_values_in_other_rows_other_draws_and_the_same_row_the_same_draw():
    batch = pa.record_batch({"id": pa.array(np.arange(4000)), "c": pa.array(np.full(4000, 50_000.0))})
    policy = policy_for({"id": "keep", "c": {"mask": "noise", "ratio": 0.1, "row_key": "id"}})
    masker = build_table_masker(policy, "t", batch.schema, secret=SECRET)
    out = masker.mask_batch(batch).column("c").to_numpy()
    reordered = masker.mask_batch(batch.take(pa.array(np.arange(4000)[::-1]))).column("c").to_numpy()[::-1]
    assert np.array_equal(out, reordered)  # a row's draw follows its id, not its position
    assert len(np.unique(out)) > 3900
    by_value = mask_column(pa.array(np.full(4000, 50_000.0)), {"mask": "noise", "ratio": 0.1}).to_numpy()
    assert len(np.unique(by_value)) == 1  # keyed by the value itself: one value, one draw


def test_an_unknown_row_key_is_refused_naming_the_field():
    policy = policy_for({"c": {"mask": "noise", "ratio": 0.1, "row_key": "nope"}})
    with pytest.raises(JaneDoeInputError, match="row_key") as error:
        build_table_masker(policy, "t", pa.schema([("c", pa.float64())]), secret=SECRET)
    assert error.value.where == "tables.t.columns.c.row_key"


def test_keyed_noise_is_uniform_over_the_ratio():
    factors = mask_column(pa.array(np.arange(1, 20_001, dtype=np.float64)), {"mask": "noise", "ratio": 0.1}).to_numpy()
    relative = factors / np.arange(1, 20_001) - 1
    assert relative.min() >= -0.1 and relative.max() <= 0.1
    assert stats.kstest(relative, stats.uniform(loc=-0.1, scale=0.2).cdf).pvalue > 1e-3


def test_keyed_random_int_is_uniform_over_its_range():
    out = mask_column(pa.array(np.arange(30_000)), {"mask": "random_int", "min": -3, "max": 6}).to_numpy()
    counts = np.bincount(out + 3, minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-3 and len(counts) == 10


def test_knowing_half_the_originals_tells_nothing_about_the_other_half():
    noisy = mask_column(pa.array(SALARIES), {"mask": "noise", "ratio": 0.1}).to_numpy()
    draws = noisy / SALARIES - 1
    known, unknown = draws[::2], draws[1::2]  # the attacker's best guess for a neighbour is its known neighbour
    assert abs(stats.pearsonr(known[: len(unknown)], unknown)[0]) < 0.1


@pytest.mark.parametrize("written", ["notes:", "notes: ~", "notes: null", "notes: {}"])
def test_a_column_written_without_a_rule_is_nulled_never_kept(tmp_path, written):
    from janedoe.policy import parse_policy

    policy = parse_policy(f"version: 1\ntables:\n  people:\n    columns:\n      {written}\n")
    source = tmp_path / "people.csv"
    source.write_text("notes\n" + "\n".join(f"secret note {i}" for i in range(50)) + "\n")
    mask_file(policy, source, tmp_path / "out.parquet")
    notes = read_table(tmp_path / "out.parquet").column("notes")
    assert len(notes) == notes.null_count == 50


@pytest.mark.parametrize("rule", [
    {"mask": "pseudonymize", "kind": "first_name"},
    {"mask": "pseudonymize", "kind": "last_name", "unique": True},
    {"mask": "fake", "kind": "first_name"},
    {"mask": "fake", "kind": "last_name", "row_key": "id"},
])
def test_a_name_is_never_masked_to_itself(rule):
    from janedoe.masking.faker_pools import public_faker_pool

    names = public_faker_pool(rule["kind"], "en_US", 4096)  # the very values the pools hold
    names = pa.concat_arrays([names] * 5).cast(pa.string())
    batch = pa.record_batch({"id": pa.array(np.arange(len(names))), "c": names})
    policy = policy_for({"id": "keep", "c": rule})
    masker = build_table_masker(policy, "t", batch.schema, secret=SECRET)
    out = masker.mask_table(pa.Table.from_batches([batch])).column("c")
    assert not np.any(np.asarray(out.to_pylist(), dtype=object) == np.asarray(names.to_pylist(), dtype=object))


def test_a_shuffle_of_few_distinct_values_still_moves_them_like_a_random_permutation():
    values = pa.array(np.repeat(np.arange(4), 500))  # a country-like column: few values, long runs
    out = mask_column(values, {"mask": "shuffle"}).to_numpy()
    assert sorted(out) == sorted(values.to_numpy())
    kept = int(np.sum(out == values.to_numpy()))
    assert abs(kept - 500) < 5 * np.sqrt(2000 * 0.25 * 0.75)  # a random permutation keeps about a quarter in place
    again = mask_column(values, {"mask": "shuffle"}).to_numpy()
    assert np.array_equal(out, again)
