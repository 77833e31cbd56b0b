"""Re-identification risk from equivalence class sizes (prosecutor, journalist, marketer; sample uniques).

Prosecutor: the attacker knows the person is in the data, so a record's risk is 1/(its class size).
Journalist/marketer: the attacker matches against a population; the risk uses the population class size F.
"""

from __future__ import annotations

import numpy as np


def prosecutor_risk(class_sizes: np.ndarray, threshold: float) -> dict:
    records = int(class_sizes.sum())
    if records == 0:
        return {"max": 0.0, "average": 0.0, "records_above_threshold": 0, "share_above_threshold": 0.0,
                "threshold": threshold}
    risky = class_sizes[1.0 / class_sizes > threshold]
    above = int(risky.sum())
    return {
        "max": float(1.0 / class_sizes.min()),
        "average": float(len(class_sizes) / records),
        "threshold": threshold,
        "records_above_threshold": above,
        "share_above_threshold": above / records,
    }


def sample_uniques(class_sizes: np.ndarray) -> dict:
    records = int(class_sizes.sum())
    uniques = int((class_sizes == 1).sum())
    return {"records": uniques, "share": uniques / records if records else 0.0}


def population_risk(sample_sizes: np.ndarray, population_sizes: np.ndarray) -> dict:
    """Journalist and marketer risk given, per sample class, the size of the matching population class.

    A population smaller than the sample class (an incomplete population table) is lifted to the sample size.
    """
    records = int(sample_sizes.sum())
    population = np.maximum(population_sizes, sample_sizes).astype(np.float64)
    if records == 0:
        return {"journalist_max": 0.0, "journalist_average": 0.0, "marketer": 0.0, "population_uniques": 0}
    return {
        "journalist_max": float((1.0 / population).max()),
        # over the population individuals who match a sample class, each at risk 1/F
        "journalist_average": float(len(population) / population.sum()),
        "marketer": float((sample_sizes / population).sum() / records),
        "population_uniques": int((population == 1).sum()),
    }
