"""A self-contained HTML report (inline SVG, no scripts, no external files) comparing a real and a synthetic table."""

import html
from pathlib import Path

import numpy as np
import pyarrow as pa
from janedoe.synthetic.evaluate import SharedCells, evaluate, shared_cells
from janedoe.synthetic.marginals import marginal_counts
from janedoe.synthetic.prediction_utility import no_better_than_majority
from janedoe.tabular import write_text_atomic

REAL_COLOUR = "#3b6ea5"
SYNTHETIC_COLOUR = "#e08a2c"
MAX_BARS = 24


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def _number(value, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return _text(value)


def _bar_chart(cells: SharedCells, column: int, tv: float) -> str:
    """Grouped bars, real versus synthetic share of each cell (the most common cells when there are many)."""
    real = marginal_counts(cells.real, cells.sizes, (column,))
    synthetic = marginal_counts(cells.synthetic, cells.sizes, (column,))
    real, synthetic = real / real.sum(), synthetic / synthetic.sum()
    shown = np.flatnonzero((real > 0) | (synthetic > 0))
    if shown.size > MAX_BARS:
        shown = np.sort(shown[np.argsort(-(real[shown] + synthetic[shown]))[:MAX_BARS]])
    width, height, left, bottom = 560, 220, 44, 70
    plot_width, plot_height = width - left - 10, height - bottom - 10
    peak = max(float(real[shown].max()), float(synthetic[shown].max()), 1e-12)
    slot = plot_width / max(shown.size, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_text(cells.names[column])}">']
    for fraction in (0.0, 0.5, 1.0):
        y = 10 + plot_height * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{peak * fraction:.0%}</text>')
    for i, cell in enumerate(shown):
        x = left + i * slot
        for offset, share, colour, who in ((0.1, real[cell], REAL_COLOUR, "real"),
                                           (0.5, synthetic[cell], SYNTHETIC_COLOUR, "synthetic")):
            bar = plot_height * share / peak
            parts.append(f'<rect x="{x + slot * offset:.1f}" y="{10 + plot_height - bar:.1f}" '
                         f'width="{slot * 0.4:.1f}" height="{bar:.1f}" fill="{colour}">'
                         f'<title>{_text(cells.labels[column][cell])} ({who}): {share:.2%}</title></rect>')
        label = _text(cells.labels[column][cell][:14])
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 14}" font-size="9" text-anchor="end" '
                     f'transform="rotate(-45 {x + slot / 2:.1f} {height - bottom + 14})">{label}</text>')
    parts.append("</svg>")
    return (f'<figure><figcaption><b>{_text(cells.names[column])}</b> (TV {tv:.3f})</figcaption>'
            f'{"".join(parts)}</figure>')


def _heat_map(names: list[str], pair_errors: dict) -> str:
    """Column-by-column 2-way TV: white is perfect, dark red is the largest error in the table."""
    count = len(names)
    cell, left, top = 26, 130, 130
    size_x, size_y = left + cell * count + 10, top + cell * count + 10
    peak = max(pair_errors.values(), default=0.0) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_x}" height="{size_y}" role="img" '
             'aria-label="2-way total variation heat map">']
    for i, name in enumerate(names):
        parts.append(f'<text x="{left - 4}" y="{top + i * cell + cell * 0.65:.1f}" font-size="10" '
                     f'text-anchor="end">{_text(name[:20])}</text>')
        x = left + i * cell + cell / 2
        parts.append(f'<text x="{x:.1f}" y="{top - 4}" font-size="10" transform="rotate(-60 {x:.1f} {top - 4})">'
                     f'{_text(name[:20])}</text>')
    for i in range(count):
        for j in range(count):
            if i == j:
                continue
            key = "|".join(names[k] for k in sorted((i, j)))
            value = pair_errors.get(key)
            if value is None:
                continue
            shade = value / peak
            colour = f"rgb(255,{int(255 * (1 - shade))},{int(255 * (1 - shade))})"
            parts.append(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{colour}"><title>{_text(names[i])} x {_text(names[j])}: TV {value:.3f}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _rows(pairs) -> str:
    return "".join(f"<tr><th>{_text(name)}</th><td>{_number(value)}</td></tr>" for name, value in pairs)


def _prediction_section(evaluation: dict) -> str:
    """Train-on-synthetic, test-on-real table (accuracy and AUC per model), and a warning when synthetic-trained
    predictions are no better than always answering the majority class."""
    utility, prediction = evaluation.get("utility"), evaluation.get("prediction")
    if utility is None:
        return "<table><tr><td>no target column given</td></tr></table>"
    parts = []
    if no_better_than_majority(prediction, utility):
        parts.append('<p class="warning" role="alert"><b>Warning:</b> a model trained on the synthetic data predicts '
                     f'{_text(utility["target"])} no better than always answering the majority class: do not use '
                     "this synthetic data for that prediction.</p>")
    if prediction and prediction.get("available"):
        rows = [("majority class", prediction["majority"]["accuracy"], prediction["majority"]["auc"])]
        for name in ("gradient boosting", "logistic regression"):
            for source in ("real", "synthetic"):
                scores = prediction[name][source]
                rows.append((f"{name}, trained on {source}", scores["accuracy"], scores["auc"]))
        rows.append(("naive Bayes, trained on real", utility["train_real_accuracy"], None))
        rows.append(("naive Bayes, trained on synthetic", utility["train_synthetic_accuracy"], None))
        body = "".join(f"<tr><th>{_text(name)}</th><td>{_number(accuracy)}</td><td>{_number(auc)}</td></tr>"
                       for name, accuracy, auc in rows)
        parts.append(f"<p>Predicting <b>{_text(utility['target'])}</b> on {prediction['test_rows']} held-out real "
                     "rows:</p><table><tr><th></th><th>accuracy</th><th>AUC</th></tr>" + body + "</table>")
    else:
        if prediction is not None:
            parts.append(f'<p class="note">{_text(prediction["note"])}</p>')
        parts.append("<table>" + _rows([
            (f"accuracy predicting {utility['target']}: trained on real", utility["train_real_accuracy"]),
            ("trained on synthetic", utility["train_synthetic_accuracy"]),
            ("majority class", utility["majority_accuracy"]),
        ]) + "</table>")
    return "".join(parts)


def render_html_report(real: pa.Table, synthetic: pa.Table, *, evaluation: dict | None = None,
                       privacy: dict | None = None, target: str | None = None, title: str = "Synthetic data report",
                       worst: int = 6) -> str:
    """One self-contained HTML page comparing real and synthetic data (marginals, correlations, utility), so a data
    owner can judge the synthetic table before sharing it; its figures are about the real data too: keep it private."""
    cells = shared_cells(real, synthetic)
    evaluation = evaluation or evaluate(real, synthetic, target=target)
    one_way = evaluation["tv_1way"]["by_marginal"]
    order = sorted(range(len(cells.names)), key=lambda i: -one_way.get(cells.names[i], 0.0))[:worst]
    summary = [
        ("rows (real / synthetic)", f"{real.num_rows} / {synthetic.num_rows}"),
        ("1-way TV mean / max", f"{_number(evaluation['tv_1way']['mean'])} / {_number(evaluation['tv_1way']['max'])}"),
        ("2-way TV mean / max", f"{_number(evaluation['tv_2way']['mean'])} / {_number(evaluation['tv_2way']['max'])}"),
        ("3-way TV mean / max", f"{_number(evaluation['tv_3way']['mean'])} / {_number(evaluation['tv_3way']['max'])}"),
        ("correlation difference mean / max", f"{_number(evaluation['correlation_difference']['mean'])} / "
                                               f"{_number(evaluation['correlation_difference']['max'])}"),
    ]
    dcr = evaluation["distance_to_closest_record"]
    risk = [
        ("exact copies of real rows (synthetic)", evaluation["exact_copy_rate"]["synthetic"]),
        ("exact copies, held-out real rows (baseline)", evaluation["exact_copy_rate"]["holdout_baseline"]),
        ("median distance to closest real record: synthetic", dcr["synthetic_median"]),
        ("median distance to closest real record: held-out real", dcr["holdout_median"]),
    ]
    privacy_rows = list((privacy or {}).items()) or [("privacy parameters", "not given")]
    charts = "".join(_bar_chart(cells, i, one_way.get(cells.names[i], 0.0)) for i in order)
    heat = _heat_map(cells.names, evaluation["tv_2way"]["by_marginal"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_text(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }} th, td {{ padding: 3px 10px; text-align: left; }}
th {{ font-weight: normal; color: #555; }} td {{ font-variant-numeric: tabular-nums; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 1em; }} figure {{ margin: 0; }}
.key span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }}
.note {{ color: #666; font-size: 0.9em; }}
.warning {{ background: #fde8e8; border: 2px solid #c0392b; color: #7b1e14; padding: 0.6em 1em; }}
</style></head><body>
<h1>{_text(title)}</h1>
<h2>Privacy</h2><table>{_rows(privacy_rows)}</table>
<h2>Fidelity</h2><table>{_rows(summary)}</table>
<p class="note">Total variation distance (TV) is half the L1 distance between the real and synthetic marginal
distributions: 0 is identical, 1 is disjoint. Many-valued numeric columns are compared on 20 quantile bins.</p>
<h2>Worst columns</h2>
<p class="key"><span style="background:{REAL_COLOUR}"></span>real<span style="background:{SYNTHETIC_COLOUR}">
</span>synthetic</p>
<div class="grid">{charts}</div>
<h2>2-way errors</h2>{heat}
<h2>Utility</h2>{_prediction_section(evaluation)}
<h2>Disclosure risk</h2><table>{_rows(risk)}</table>
<p class="note">This report is computed from the real data and is not itself differentially private: share it
only with people who may see the real data's statistics.</p>
</body></html>
"""


def write_html_report(real: pa.Table, synthetic: pa.Table, path: str | Path, **options) -> None:
    """Write the report atomically (temporary file in the target directory, then rename)."""
    text = render_html_report(real, synthetic, **options)
    write_text_atomic(text, path)
