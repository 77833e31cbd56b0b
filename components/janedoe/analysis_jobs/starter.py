"""A new job folder: a manifest to edit and an analysis script that runs unchanged in stage 1 and stage 2."""

from pathlib import Path

from janedoe.analysis_jobs.manifest import MANIFEST_NAME, MODES
from janedoe.errors import JaneDoeInputError

_MANIFEST = {
    "dp": """\
# A dp-mode job: it sees only the stage-1 (synthetic) data; its query() calls are answered with differential privacy
# on the real data, each charged to your budget, and the answers are released to you automatically.
dataset: {dataset}
entry: analysis.py
mode: dp
limits:
  cpu_seconds: 300
  wall_seconds: 600
""",
    "review": """\
# A review-mode job: it runs on the real data; only the declared outputs are checked automatically and then released
# after two output checkers approve. Review-mode releases carry no formal privacy guarantee.
dataset: {dataset}
entry: analysis.py
mode: review
limits:
  cpu_seconds: 300
  wall_seconds: 600
outputs:
  - path: summary.csv
    kind: table
    count_columns: [n]
""",
}

_SCRIPT = {
    "dp": '''\
"""Runs as-is in stage 1 (exact answers on synthetic data) and stage 2 (DP answers on the real data)."""

import json

from janedoe.job_client import output_path, query

answer = query("count()", epsilon=0.1)
output_path("answers.json").write_text(json.dumps(answer))  # stage 1 only: stage 2 releases the answers for you
''',
    "review": '''\
"""Runs as-is in stage 1 (synthetic data) and stage 2 (the real data, read-only); write only declared outputs."""

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from janedoe.job_client import data_path, output_path

rows = pq.ParquetFile(data_path("{table}")).metadata.num_rows
pacsv.write_csv(pa.table({"n": [rows]}), output_path("summary.csv"))
''',
}


def init_job_folder(job_dir: Path, *, dataset: str, mode: str, table: str | None = None) -> None:
    """Writes a starter manifest and analysis.py into job_dir (created if missing); never overwrites a file."""
    if mode not in MODES:
        raise JaneDoeInputError(f"must be one of {', '.join(MODES)}", where="mode")
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    files = {MANIFEST_NAME: _MANIFEST[mode].format(dataset=dataset),
             "analysis.py": _SCRIPT[mode].replace("{table}", table or dataset)}
    for name in files:
        if (job_dir / name).exists():
            raise JaneDoeInputError("already exists; not overwritten", where=str(job_dir / name))
    for name, text in files.items():
        (job_dir / name).write_text(text, encoding="utf-8")
