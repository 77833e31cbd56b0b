"""A dataset's stage-1 package: DP synthetic data, its schema and the public policy, made once and kept.

The synthesis is paid from the dataset's own ledger account (STAGE_ONE_ACCOUNT), whose budget is exactly one
synthesis: the ledger is charged before any noise is drawn, a publication that fails afterwards keeps its charge (no
silent refund) and leaves no package, and a second synthesis is refused by the ledger itself (an admin may raise the
account's budget to publish anew). The folder appears by one rename, complete or not at all; publications of one
package on this host are serialized by a lock file beside it, so concurrent callers get the same package.
"""

import datetime
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml
from janedoe.errors import BudgetExceededError, JaneDoeInputError, NotFoundError
from janedoe.stage_one.public_policy import public_policy
from janedoe.synthetic import check_synthesis, synthesis_cost, synthesize
from janedoe.tabular import iter_batches, read_schema, write_table_atomic, write_text_atomic

STAGE_ONE_ACCOUNT = "stage-one"
_BATCH_ROWS = 65_536  # the data is streamed from its Parquet file: any size, bounded memory
PACKAGE_FILE = "package.json"  # written last into the temporary folder: its presence marks a package
README = """\
Stage-1 data of dataset {name!r}: SYNTHETIC, not the real data
==============================================================

{table}.parquet holds synthetic rows, generated with differential privacy ({method}, epsilon={epsilon:g},
delta={delta:g}) from a model of the real table. No row is a real person's; the synthetic data keeps only the broad
patterns the model captured (single columns and some pairs), so any statistic you compute here can differ from the
real one, and patterns that are rare or involve many columns may be missing or made up.

Use it to write and test your analysis. The same code then runs in stage 2 on the real data:
  - dp mode: query(...) (from janedoe.job_client) answers with noise on the real data, each answer charged to your
    privacy budget before it is made;
  - review mode: your declared output files are checked automatically and released after two reviewers approve.
In stage 1, query(...) gives the EXACT answer on this synthetic data, for free: it tells you nothing certain about
the real data.

Files: schema.json (columns and Arrow types), public_policy.yaml (the public parts of the data owner's policy: column
types, bounds, categories, masking rule names, the DP budget settings), package.json (how and when this was made,
with each file's SHA-256).
"""


def _table_file(table_name: str) -> str:
    if not table_name or table_name in (".", "..") or "/" in table_name or "\\" in table_name or "\0" in table_name:
        raise JaneDoeInputError("the table name cannot be a file name", where="policy: tables")
    return f"{table_name}.parquet"


@contextmanager
def _publication_lock(package_dir: Path):
    lock_path = package_dir.parent / f".{package_dir.name}.lock"
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _published(package_dir: Path) -> bool:
    if (package_dir / PACKAGE_FILE).is_file():
        return True
    if package_dir.exists() and (not package_dir.is_dir() or any(package_dir.iterdir())):
        raise JaneDoeInputError("the folder exists and is not a stage-1 package", where="package_dir")
    return False


def _charge(privacy, record, section, rows: int | None):
    """Spend the synthesis on the dataset's stage-one account (created with exactly that budget when missing)."""
    cost = synthesis_cost(section)
    try:
        privacy.ledger.budget(record.dataset_id, STAGE_ONE_ACCOUNT)
    except NotFoundError:
        privacy.ledger.set_budget(record.dataset_id, STAGE_ONE_ACCOUNT, epsilon=cost.epsilon, delta=cost.delta)
    try:
        return privacy.ledger.spend(record.dataset_id, STAGE_ONE_ACCOUNT, cost,
                                    query=f"stage-one package rows={rows}", mechanism=section.method)
    except BudgetExceededError:
        raise BudgetExceededError(
            "the dataset's stage-one budget is spent (an earlier publication was charged but left no package, and "
            "its charge stays); an admin must raise the stage-one budget to publish again",
            where=f"ledger: {STAGE_ONE_ACCOUNT}",
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_package(folder: Path, record, table_policy, result, spend) -> None:
    section = table_policy.synthetic
    table_file = _table_file(record.table_name)
    write_table_atomic(result.table, folder / table_file)
    schema = {"table": record.table_name,
              "columns": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in result.table.schema]}
    write_text_atomic(json.dumps(schema, indent=2) + "\n", folder / "schema.json")
    policy = public_policy(record.table_name, table_policy, result.table.schema)
    write_text_atomic(yaml.safe_dump(policy, sort_keys=False, allow_unicode=True), folder / "public_policy.yaml")
    readme = README.format(name=record.name, table=record.table_name, method=section.method.upper(),
                           epsilon=result.epsilon, delta=result.delta)
    write_text_atomic(readme, folder / "README.txt")
    files = {name: _sha256(folder / name) for name in (table_file, "schema.json", "public_policy.yaml", "README.txt")}
    manifest = {
        "format": 1, "dataset_id": record.dataset_id, "dataset": record.name, "table": record.table_name,
        "synthetic": True, "method": result.method, "epsilon": result.epsilon, "delta": result.delta,
        "rows": result.table.num_rows, "ledger_account": STAGE_ONE_ACCOUNT, "spend_id": spend.id,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "files": files,
    }
    write_text_atomic(json.dumps(manifest, indent=2) + "\n", folder / PACKAGE_FILE)


def publish_stage_one(record, privacy, *, package_dir: Path, rows: int | None = None, seed: int | None = None) -> Path:
    """The dataset's stage-1 package folder at `package_dir`, made now (charged once) or the one already there.

    record: a janedoe.service_store DatasetRecord; privacy: its DatasetPrivacy (ledger and policy). Refusals (no
    synthetic section, a domain that cannot be synthesized) happen before anything is charged.
    """
    package_dir = Path(package_dir)
    table_policy = privacy.views.policy(record).tables[record.table_name]
    section = table_policy.synthetic
    if section is None:
        raise JaneDoeInputError("the policy's table has no synthetic section, so it has no stage-1 data",
                                where=f"policy: tables.{record.table_name}.synthetic")
    _table_file(record.table_name)
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
        raise JaneDoeInputError("the number of rows must be a positive integer", where="rows")
    package_dir.parent.mkdir(parents=True, exist_ok=True)
    with _publication_lock(package_dir):
        if _published(package_dir):
            return package_dir
        schema = read_schema(record.data_path)
        check_synthesis(schema, section, table_policy.columns)  # before spending
        spend = _charge(privacy, record, section, rows)
        # -- charged: from here a failure keeps the charge and leaves no package --
        building = Path(tempfile.mkdtemp(prefix=f".{package_dir.name}.", dir=package_dir.parent))
        try:
            batches = lambda: iter_batches(record.data_path, batch_size=_BATCH_ROWS)  # noqa: E731  (re-readable)
            result = synthesize(batches, section, table_policy.columns, rows=rows, seed=seed, schema=schema)
            _write_package(building, record, table_policy, result, spend)
            os.chmod(building, 0o755)
            os.replace(building, package_dir)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return package_dir


def read_package(package_dir: Path) -> dict:
    """The package's manifest (package.json); NotFoundError when no package was published there."""
    try:
        return json.loads((Path(package_dir) / PACKAGE_FILE).read_text())
    except FileNotFoundError:
        raise NotFoundError("no stage-1 package has been published for this dataset", where="stage-one") from None
