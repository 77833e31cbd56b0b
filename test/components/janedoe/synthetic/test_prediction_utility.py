"""Train-on-synthetic, test-on-real with scikit-learn: known answers on tiny tables, and the report's warning."""

import builtins

import numpy as np
import pyarrow as pa
import pytest
from janedoe.synthetic import evaluate, render_html_report
from janedoe.synthetic.evaluate import shared_cells
from janedoe.synthetic.prediction_utility import prediction_utility


def _table(rows: int, seed: int) -> pa.Table:
    """label is mostly decided by a and b (70% of rows are class 0): a model should beat the majority."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 4, rows), rng.integers(0, 3, rows)
    label = np.where(rng.random(rows) < 0.9, ((a == 3) | ((a == 2) & (b == 0))).astype(np.int64), 0)
    return pa.table({"a": a, "b": pa.array(np.array(["x", "y", "z"])[b]), "label": label})


def test_a_synthetic_copy_of_the_training_rows_scores_as_the_real_model():
    train, test = _table(600, 1), _table(300, 2)
    result = evaluate(train, train, target="label", holdout=test)["prediction"]
    assert result["available"] and result["test_rows"] == 300
    for name in ("gradient boosting", "logistic regression"):
        assert result[name]["synthetic"] == result[name]["real"]
    truth = test.column("label").to_numpy()
    assert result["majority"]["accuracy"] == pytest.approx(np.mean(truth == 0))
    # the rule is learnable: about 0.9 + 0.1 * (share of class 0 among the flipped rows)
    assert result["gradient boosting"]["real"]["accuracy"] > result["majority"]["accuracy"] + 0.1
    assert result["gradient boosting"]["real"]["auc"] > 0.85


def test_a_constant_synthetic_target_gives_the_majority_class():
    real = _table(600, 3)
    constant = real.set_column(2, "label", pa.array(np.zeros(600, dtype=np.int64)))
    cells = shared_cells(pa.concat_tables([real, _table(300, 4)]), constant)
    result = prediction_utility(cells, "label", train=np.arange(600), test=np.arange(600, 900))
    for name in ("gradient boosting", "logistic regression"):
        assert result[name]["synthetic"]["accuracy"] == result["majority"]["accuracy"]
        assert result[name]["synthetic"]["auc"] == 0.5
    assert result["majority_class"] == "0"


def test_the_report_warns_when_synthetic_training_is_no_better_than_the_majority():
    real = _table(600, 5)
    constant = real.set_column(2, "label", pa.array(np.zeros(600, dtype=np.int64)))
    warned = render_html_report(real, constant, target="label")
    assert 'class="warning"' in warned and "no better than always answering the majority class" in warned
    assert "gradient boosting, trained on synthetic" in warned and "AUC" in warned
    fine = render_html_report(real, real, target="label")
    assert 'class="warning"' not in fine and "gradient boosting, trained on real" in fine


def test_without_scikit_learn_the_report_says_so_and_keeps_naive_bayes(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    real = _table(600, 6)
    result = evaluate(real, real, target="label")
    assert result["prediction"]["available"] is False and "scikit-learn" in result["prediction"]["note"]
    assert result["utility"]["train_synthetic_accuracy"] == result["utility"]["train_real_accuracy"]
    page = render_html_report(real, real, target="label", evaluation=result)
    assert "scikit-learn is not installed" in page and "trained on synthetic" in page
