"""Train on synthetic, test on real, with the models analysts use: scikit-learn's gradient boosting and logistic
regression, beside the same models trained on real rows and the majority class, all scored on the same real rows.

scikit-learn is the optional `evaluation` extra: it is imported only here, and without it the result says so (the
dependency-free naive Bayes figure in evaluate.py stays). Features are the shared cells of evaluate.py: cell codes
as ordered numbers for gradient boosting (its trees split them anywhere), one-hot cells for logistic regression.
"""

from typing import TYPE_CHECKING

import numpy as np
from janedoe.errors import JaneDoeInputError

if TYPE_CHECKING:
    from janedoe.synthetic.evaluate import SharedCells

MISSING_EXTRA = "scikit-learn is not installed (install the `evaluation` extra); only the naive-Bayes figure is shown"


def _models():
    """Fresh classifiers, or None when scikit-learn is missing."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder
    except ImportError:
        return None
    return {
        "gradient boosting": lambda: HistGradientBoostingClassifier(random_state=0),
        "logistic regression": lambda: make_pipeline(OneHotEncoder(handle_unknown="ignore"),
                                                     LogisticRegression(max_iter=1000)),
    }


def _scores(make, features: np.ndarray, labels: np.ndarray, test_features: np.ndarray, test_labels: np.ndarray,
            classes: int) -> dict:
    """Accuracy and AUC (one-vs-rest when there are more than two classes) of a model trained on (features, labels).

    Training rows of a single class give the constant prediction of that class (AUC 0.5): no model can learn more.
    """
    probabilities = np.zeros((test_labels.size, classes))
    present = np.unique(labels)
    if present.size < 2:
        probabilities[:, present[0] if present.size else 0] = 1.0
    else:
        model = make().fit(features, labels)
        probabilities[:, model.classes_] = model.predict_proba(test_features)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == test_labels))
    return {"accuracy": accuracy, "auc": _auc(probabilities, test_labels)}


def _auc(probabilities: np.ndarray, labels: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    seen = np.unique(labels)
    if seen.size < 2:
        return None  # undefined on test rows of one class
    if seen.size == 2:  # the class cells include a missing-value cell, usually absent
        return float(roc_auc_score(labels == seen[1], probabilities[:, seen[1]]))
    scores = probabilities[:, seen]
    scores = scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-300)
    scores[scores.sum(axis=1) == 0] = 1.0 / seen.size
    return float(roc_auc_score(labels, scores, multi_class="ovr", labels=seen))


def split_rows(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded (train, test) split of the real rows, 30% held out."""
    order = np.random.default_rng(seed).permutation(rows)
    cut = rows * 3 // 10
    return order[cut:], order[:cut]


def prediction_utility(cells: "SharedCells", target: str, *, train: np.ndarray | None = None,
                       test: np.ndarray | None = None, seed: int = 0) -> dict:
    """TSTR accuracy and AUC: each model trained on the synthetic rows and on the real `train` rows, scored on the
    real `test` rows (by default the seeded split of split_rows), beside the training majority class."""
    if target not in cells.names:
        raise JaneDoeInputError("the target column is not in both tables", where="target")
    if train is None or test is None:
        train, test = split_rows(cells.real.shape[0], seed)
    if train.size == 0 or test.size == 0:
        raise JaneDoeInputError("the real table is too small for a train/test split", where="target")
    t = cells.names.index(target)
    others = [j for j in range(len(cells.names)) if j != t]
    classes = cells.sizes[t]
    real_train, real_test = cells.real[train], cells.real[test]
    majority = int(np.bincount(real_train[:, t], minlength=classes).argmax())
    result = {
        "target": target,
        "test_rows": int(test.size),
        "majority_class": cells.labels[t][majority],
        "majority": {"accuracy": float(np.mean(real_test[:, t] == majority)), "auc": 0.5},
    }
    models = _models()
    if models is None:
        return {**result, "available": False, "note": MISSING_EXTRA}
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    result["available"] = True
    # one thread: OpenMP workers spinning for a busy shared core made small fits several times slower than serial
    with threadpool_limits(limits=1):
        for name, make in models.items():
            result[name] = {
                source: _scores(make, rows[:, others], rows[:, t], real_test[:, others], real_test[:, t], classes)
                for source, rows in (("real", real_train), ("synthetic", cells.synthetic))
            }
    return result


def no_better_than_majority(prediction: dict | None, naive_bayes: dict | None) -> bool:
    """Whether the synthetic-trained model (gradient boosting, else naive Bayes) is at most the majority class."""
    if prediction and prediction.get("available"):
        return prediction["gradient boosting"]["synthetic"]["accuracy"] <= prediction["majority"]["accuracy"]
    if naive_bayes:
        return naive_bayes["train_synthetic_accuracy"] <= naive_bayes["majority_accuracy"]
    return False
