"""Detection benchmark: personal columns found per language (headers and values, then values alone) on generated
customer tables, `redact` recall per entity on generated notes with known spans, and `redact` values/s on 100k texts.

Run: .venv/bin/python bench/bench_detection.py [--quick]; writes bench/results/detection.md.
The labelled data is the tests' generator (test/components/janedoe/detection/labelled_data.py). Presidio is not
installed in this venv: bench/bench_presidio.py runs it in its own venv and appends the side-by-side (run it after
this script, which rewrites the file).
"""

import argparse
import sys
import time
from pathlib import Path

import faker
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "components" / "janedoe" / "detection"))
RESULTS = ROOT / "bench" / "results" / "detection.md"

from janedoe.detection import detect_column, redact_spans  # noqa: E402
from labelled_data import LOCALES, customer_table, notes  # noqa: E402

_TITLES = {"Le", "De", "Du", "La", "Van", "Da", "Del", "Dos", "Herr", "Frau", "PhD"}


def _scores(table: pa.Table, truth: dict[str, str], headers: bool) -> tuple[float, float]:
    tp = fp = fn = 0
    for i, name in enumerate(table.column_names):
        found = detect_column(name if headers else f"c{i}", table.column(name).combine_chunks(),
                              table.schema.field(name).type).kind is not None
        personal = truth[name] != "plain"
        tp, fp, fn = tp + (found and personal), fp + (found and not personal), fn + (personal and not found)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def _redact_recall(locale: str, count: int) -> tuple[dict[str, float], float]:
    data = notes(locale, count)
    out = redact_spans(pa.array([t for t, _, _ in data])).to_pylist()
    found: dict[str, int] = {}
    total: dict[str, int] = {}
    kept = kept_total = 0
    for (_, spans, plain), text in zip(data, out, strict=True):
        for entity, values in spans.items():
            words = [w for w in values[0].split() if w[0].isupper() and "." not in w and not w.isupper()
                     and w not in _TITLES]
            gone = not any(w in text for w in words) if entity == "name" else values[0] not in text
            found[entity] = found.get(entity, 0) + gone
            total[entity] = total.get(entity, 0) + 1
        kept += sum(word in text for word in plain)
        kept_total += len(plain)
    return {e: found[e] / total[e] for e in total}, kept / kept_total


def _prose_touched(locale: str, count: int) -> float:
    """Share of Faker lorem paragraphs (no personal data) that `redact` changes: its false positives."""
    fake = faker.Faker(locale)
    fake.seed_instance(3)
    paragraphs = [fake.paragraph(nb_sentences=3) for _ in range(count)]
    return sum(a != b for a, b in zip(paragraphs, redact_spans(pa.array(paragraphs)).to_pylist(), strict=True)) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows, texts, speed_texts = (100, 300, 20_000) if args.quick else (300, 2000, 100_000)
    lines = ["## Detection", "",
             f"Generated customer tables ({rows} rows, 12 personal and 6 plain columns per locale), Faker-generated "
             "notes with known spans. Names are looked up in a list built from Faker's own person providers, so name "
             "recall here measures the mechanics, not coverage of real-world names. Presidio side by side: "
             "bench/bench_presidio.py (below).", "",
             "| locale | precision (headers+values) | recall (headers+values) | precision (values only) | "
             "recall (values only) | redact recall email/iban/card/phone/name | non-personal words kept | "
             "lorem paragraphs changed |",
             "|---|---|---|---|---|---|---|---|"]
    for locale in LOCALES:
        table, truth = customer_table(locale, rows=rows)
        both, alone = _scores(table, truth, True), _scores(table, truth, False)
        recall, kept = _redact_recall(locale, texts)
        recalls = "/".join(f"{recall.get(e, float('nan')):.3f}" for e in ("email", "iban", "card", "phone", "name"))
        lines.append(f"| {locale} | {both[0]:.2f} | {both[1]:.2f} | {alone[0]:.2f} | {alone[1]:.2f} | {recalls} | "
                     f"{kept:.3f} | {_prose_touched(locale, texts // 4):.2f} |")
        print(lines[-1], flush=True)
    corpus = [t for locale in LOCALES for t, _, _ in notes(locale, speed_texts // len(LOCALES), seed=9)]
    values = pa.array(corpus)
    redact_spans(values[:1000])  # the name list is built once per process
    started = time.perf_counter()
    for start in range(0, len(values), 65536):
        redact_spans(values[start:start + 65536])
    seconds = time.perf_counter() - started
    lines += ["", f"`redact` (all entities) on {len(values):,} notes in 65,536-value batches: "
              f"{len(values) / seconds:,.0f} values/s ({seconds:.2f} s)."]
    print(lines[-1])
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
