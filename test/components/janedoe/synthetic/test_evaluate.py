"""Evaluation metrics against hand-checkable cases and an independent TV computation."""

import itertools

import numpy as np
import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic import evaluate, write_html_report


def _table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, rows)
    return pa.table({
        "a": a,
        "b": pa.array(np.where(a == 0, "x", "y")),
        "c": rng.normal(size=rows),
        "label": (a > 0).astype(np.int64),
    })


def test_identical_tables_score_perfectly():
    real = _table(2000, seed=0)
    result = evaluate(real, real, target="label")
    assert result["tv_1way"]["max"] == 0 and result["tv_2way"]["max"] == 0 and result["tv_3way"]["max"] == 0
    assert result["correlation_difference"]["max"] == pytest.approx(0.0, abs=1e-12)
    assert result["exact_copy_rate"]["synthetic"] == 1.0
    assert result["distance_to_closest_record"]["synthetic_median"] == 0
    assert result["utility"]["train_real_accuracy"] == 1.0  # label is a function of a


def test_tv_matches_an_independent_computation():
    real, synthetic = _table(3000, seed=1), _table(1000, seed=2)
    synthetic = synthetic.set_column(0, "a", pa.array(np.random.default_rng(3).integers(0, 4, 1000)))
    result = evaluate(real, synthetic)

    def tv(columns):
        def shares(t):
            rows = list(zip(*(t.column(c).to_pylist() for c in columns), strict=True))
            keys, counts = np.unique(np.array(rows, dtype=object).astype(str), axis=0, return_counts=True)
            return {tuple(k): n / len(rows) for k, n in zip(keys.tolist(), counts, strict=True)}

        x, y = shares(real), shares(synthetic)
        return 0.5 * sum(abs(x.get(k, 0) - y.get(k, 0)) for k in set(x) | set(y))

    for way in (1, 2):
        for columns in itertools.combinations(["a", "b", "label"], way):
            assert result[f"tv_{way}way"]["by_marginal"]["|".join(columns)] == pytest.approx(tv(columns), abs=1e-12)
    assert result["tv_1way"]["by_marginal"]["a"] > 0.2  # synthetic a has a fourth value real never has


def test_disjoint_rows_are_not_copies():
    real = pa.table({"a": np.arange(100), "b": np.arange(100)})
    synthetic = pa.table({"a": np.arange(100, 150), "b": np.arange(100, 150)})
    assert evaluate(real, synthetic)["exact_copy_rate"]["synthetic"] == 0.0


def test_tables_without_shared_columns_or_rows_are_input_errors():
    with pytest.raises(JaneDoeInputError):
        evaluate(pa.table({"a": [1]}), pa.table({"b": [1]}))
    with pytest.raises(JaneDoeInputError):
        evaluate(pa.table({"a": pa.array([], pa.int64())}), pa.table({"a": [1]}))


def test_html_report_is_self_contained(tmp_path):
    real, synthetic = _table(2000, seed=4), _table(2000, seed=5)
    path = tmp_path / "report.html"
    write_html_report(real, synthetic, path, privacy={"epsilon": 1.0, "delta": 1e-9}, target="label")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") >= 5
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "src=" not in text
    for name in ("a", "b", "label", "epsilon"):
        assert f">{name}" in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind


def test_mixed_types_with_nulls_and_dates_are_compared():
    rng = np.random.default_rng(6)
    days = pa.array(rng.integers(18000, 18400, 500).astype(np.int32)).cast(pa.date32())
    real = pa.table({"d": days, "s": pa.array([None if i % 7 == 0 else "k" for i in range(500)]),
                     "f": rng.random(500)})
    result = evaluate(real, real.slice(0, 250))
    assert result["tv_1way"]["count"] == 3 and result["tv_3way"]["count"] == 1
    assert 0 <= result["tv_3way"]["max"] < 0.5
