"""`redact` side by side with Presidio (analyzer + anonymizer) on the labelled notes of bench_detection.py.

Run: .venv/bin/python bench/bench_presidio.py [--quick]; appends (or replaces) a section of bench/results/detection.md.
Presidio runs in the benchmark's own venv, .bench-cache/presidio-venv, created here with `python -m venv` and pip
from the package registry (presidio-analyzer, presidio-anonymizer), never in the project's .venv. spaCy's trained
models are not on the registry, so Presidio runs with a BLANK spaCy pipeline (tokenizer only): its pattern and
check-digit recognizers (email, phone via phonenumbers, IBAN, credit card, dates, URLs, US ids...) work, its PERSON
recognizer (the named-entity model) does not. Every text is analyzed as English (Presidio's predefined recognizers
are registered for English; their patterns are not language-specific).

Scoring, the same for both tools: each tool replaces a span by one private-use character per entity; aligning its
output with the input (difflib) gives the spans it replaced. A labelled span is recalled when a replaced span of its
entity overlaps it; a replaced span is correct when it overlaps a labelled span of its entity (precision); spans of
entities janedoe does not label (Presidio's DATE_TIME, US_BANK_NUMBER, ...) count against Presidio's precision in
the `other` row, since every unlabelled token of these notes (dates, order numbers, amounts) is not personal.
"""

import argparse
import difflib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".bench-cache" / "presidio-venv"
WORK = ROOT / ".bench-cache" / "presidio"
RESULTS = ROOT / "bench" / "results" / "detection.md"
SECTION = "## `redact` and Presidio, side by side"
ENTITIES = ("email", "phone", "iban", "card", "name")
MARKS = {entity: chr(0xE000 + i) for i, entity in enumerate(ENTITIES)}
OTHER_MARK = chr(0xE010)
PRESIDIO_ENTITIES = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "IBAN_CODE": "iban", "CREDIT_CARD": "card",
                     "PERSON": "name"}


def presidio_worker(inputs: Path, outputs: Path) -> None:
    """Runs inside the Presidio venv: analyze + anonymize every text, write the outputs and the time taken."""
    import spacy
    import tldextract.tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    class BlankSpacyEngine(SpacyNlpEngine):
        """spaCy's tokenizer only: no trained model (they are not on the package registry)."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    # Presidio's email recognizer checks domains with tldextract, which would fetch the public suffix list from
    # GitHub at run time: the snapshot bundled with the package is used instead (nothing is downloaded).
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    engine = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    analyzer, anonymizer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"]), AnonymizerEngine()
    operators = {name: OperatorConfig("replace", {"new_value": MARKS[entity]})
                 for name, entity in PRESIDIO_ENTITIES.items()}
    operators["DEFAULT"] = OperatorConfig("replace", {"new_value": OTHER_MARK})
    texts = json.loads(inputs.read_text(encoding="utf-8"))
    analyzer.analyze(texts[0], language="en")  # recognizers are loaded on first use
    started = time.perf_counter()
    out, kinds = [], {}
    for text in texts:  # Presidio's API takes one text at a time
        found = analyzer.analyze(text, language="en")
        out.append(anonymizer.anonymize(text, found, operators=operators).text)
        for result in found:
            kinds[result.entity_type] = kinds.get(result.entity_type, 0) + 1
    seconds = time.perf_counter() - started
    versions = {}
    for package in ("presidio-analyzer", "presidio-anonymizer", "spacy"):
        from importlib.metadata import version

        versions[package] = version(package)
    outputs.write_text(json.dumps({"texts": out, "seconds": seconds, "versions": versions,
                                    "kinds": kinds}), encoding="utf-8")


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import presidio_analyzer, presidio_anonymizer, spacy"],
                           capture_output=True)
    if probe.returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "presidio-analyzer", "presidio-anonymizer"],
                       check=True)
    return python


def replaced_spans(original: str, output: str) -> list[tuple[int, int, str]]:
    """(start, end, entity) of the input spans a tool replaced by its marks."""
    entity_of = {mark: entity for entity, mark in MARKS.items()} | {OTHER_MARK: "other"}
    spans = []
    matcher = difflib.SequenceMatcher(None, original, output, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "delete", "insert"):
            for mark in {c for c in output[j1:j2] if c in entity_of}:
                spans.append((i1, max(i2, i1 + 1), entity_of[mark]))
    return spans


def gold_spans(text: str, labelled: dict[str, list[str]]) -> list[tuple[int, int, str]]:
    spans = []
    for entity, values in labelled.items():
        start = text.find(values[0])
        if start >= 0:
            spans.append((start, start + len(values[0]), entity))
    return spans


def score(texts, labels, outputs) -> dict[str, tuple[float, float, int]]:
    """entity -> (precision, recall, labelled spans); `other` -> (share of replaced spans that are unlabelled)."""
    hit = dict.fromkeys(ENTITIES, 0)
    total = dict.fromkeys(ENTITIES, 0)
    right = dict.fromkeys(ENTITIES, 0)
    made = dict.fromkeys((*ENTITIES, "other"), 0)
    for text, labelled, output in zip(texts, labels, outputs, strict=True):
        gold, found = gold_spans(text, labelled), replaced_spans(text, output)
        for start, end, entity in gold:
            total[entity] += 1
            hit[entity] += any(e == entity and s < end and start < f for s, f, e in found)
        for start, end, entity in found:
            made[entity] += 1
            if entity != "other":
                right[entity] += any(e == entity and s < end and start < f for s, f, e in gold)
    result = {e: (right[e] / made[e] if made[e] else float("nan"), hit[e] / total[e] if total[e] else float("nan"),
                  total[e]) for e in ENTITIES}
    result["other"] = (0.0, float("nan"), made["other"])
    return result


def _number(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"  # NaN: the tool replaced no span of that entity


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--presidio-worker":
        presidio_worker(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_locale = 50 if args.quick else 500

    import pyarrow as pa

    sys.path.insert(0, str(ROOT / "test" / "components" / "janedoe" / "detection"))
    from janedoe.detection import redact_spans
    from labelled_data import LOCALES, notes

    data = [(locale, text, spans) for locale in LOCALES for text, spans, _ in notes(locale, per_locale, seed=11)]
    texts = [text for _, text, _ in data]
    labels = [spans for _, _, spans in data]
    python = ensure_venv()
    WORK.mkdir(parents=True, exist_ok=True)
    inputs, outputs = WORK / "texts.json", WORK / "presidio.json"
    inputs.write_text(json.dumps(texts), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([str(python), str(Path(__file__).resolve()), "--presidio-worker", str(inputs), str(outputs)],
                   check=True, env=env)
    presidio = json.loads(outputs.read_text(encoding="utf-8"))

    values = pa.array(texts)
    redact_spans(values[:100], replacements=MARKS)  # the name list is built once per process
    started = time.perf_counter()
    ours = redact_spans(values, replacements=MARKS).to_pylist()
    our_seconds = time.perf_counter() - started

    rows = []
    for name, outs in (("janedoe", ours), ("Presidio", presidio["texts"])):
        rows.append((name, score(texts, labels, outs)))
    by_locale = {}
    for locale in LOCALES:
        chosen = [i for i, (loc, _, _) in enumerate(data) if loc == locale]
        by_locale[locale] = [score([texts[i] for i in chosen], [labels[i] for i in chosen], [o[i] for i in chosen])
                             for o in (ours, presidio["texts"])]
    versions = ", ".join(f"{k} {v}" for k, v in presidio["versions"].items())
    lines = [SECTION, "",
             f"{len(texts):,} generated notes ({per_locale} per locale, {len(LOCALES)} locales, the generator of the "
             f"tests), known spans. Presidio ({versions}) in its own venv with a BLANK spaCy pipeline: spaCy's "
             "trained models are not on the package registry, so its PERSON recognizer finds nothing and names are "
             "janedoe's alone (a name list: Faker's own names, so name recall measures the mechanics). Every text is "
             "analyzed as English. Scores from the spans each tool replaced (bench/bench_presidio.py).", "",
             "| entity | janedoe precision | janedoe recall | Presidio precision | Presidio recall | labelled spans |",
             "|---|---|---|---|---|---|"]
    ours_score, theirs = rows[0][1], rows[1][1]
    for entity in ENTITIES:
        p1, r1, n = ours_score[entity]
        p2, r2, _ = theirs[entity]
        lines.append(f"| {entity} | {_number(p1)} | {_number(r1)} | {_number(p2)} | {_number(r2)} | {n} |")
    lines.append(f"| other (unlabelled spans replaced) | {ours_score['other'][2]} | | {theirs['other'][2]} | | |")
    unlabelled = {k: v for k, v in presidio["kinds"].items() if k not in PRESIDIO_ENTITIES}
    lines += ["", "Presidio's results of entities janedoe does not label (before overlaps are merged): "
              + ", ".join(f"{k} {v}" for k, v in sorted(unlabelled.items(), key=lambda kv: -kv[1])) + "."]
    lines += ["", "Recall email/phone/iban/card per locale (janedoe vs Presidio):", "",
              "| locale | janedoe | Presidio |", "|---|---|---|"]
    for locale, (a, b) in by_locale.items():
        lines.append(f"| {locale} | {'/'.join(f'{a[e][1]:.2f}' for e in ENTITIES[:4])} | "
                     f"{'/'.join(f'{b[e][1]:.2f}' for e in ENTITIES[:4])} |")
    lines += ["", f"Speed on the same {len(texts):,} notes, one process: janedoe `redact` (one Arrow batch) "
              f"{len(texts) / our_seconds:,.0f} values/s; Presidio analyzer + anonymizer (one text per call) "
              f"{len(texts) / presidio['seconds']:,.0f} values/s."]
    print("\n".join(lines))
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    kept = existing.split(SECTION)[0].rstrip("\n")
    RESULTS.write_text((kept + "\n\n" if kept else "") + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
