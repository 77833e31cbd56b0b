"""Differentially private synthetic copies of registered datasets, made in background threads as jobs.

The ledger is charged when the job is accepted (spend first, answer after): a job that fails or is interrupted by a
crash keeps its charge, never a silent refund. Results are Parquet files in the data dir, readable from any process.
"""

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from janedoe.dataset_privacy.privacy_budgets import DatasetPrivacy
from janedoe.errors import JaneDoeInputError
from janedoe.service_store import DatasetRecord, JobRecord, Principal, StateStore
from janedoe.synthetic import check_synthesis, synthesis_cost, synthesize
from janedoe.tabular import write_table_atomic

log = logging.getLogger("janedoe.dataset_privacy")
SYNTH = "synth"


class SyntheticJobs:
    """Synthesis as background jobs: the budget is charged when a job is created, the model fitted off the request."""

    def __init__(self, state: StateStore, privacy: DatasetPrivacy, *, workers: int = 1) -> None:
        self.state, self.privacy = state, privacy
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="janedoe-synth")

    def submit(
        self, record: DatasetRecord, principal: Principal, *, rows: int | None = None, seed: int | None = None
    ) -> JobRecord:
        """Checks, charges the caller's budget, and queues the job; refusals charge nothing."""
        self.privacy.check_role(record, principal)
        table_policy = self.privacy.views.policy(record).tables[record.table_name]
        section = table_policy.synthetic
        if section is None:
            raise JaneDoeInputError("the policy's table has no synthetic section", where="policy: tables.synthetic")
        if self.state.datasets.data_dir is None:
            raise JaneDoeInputError("this server has no data directory for job results", where="--data-dir")
        check_synthesis(self.privacy.views.raw_table(record).schema, section, table_policy.columns)  # before spending
        self.privacy.budget(record, principal.name)
        self.privacy.ledger.spend(
            record.dataset_id, principal.name, synthesis_cost(section), query=f"synthesize rows={rows}",
            mechanism=section.method,
        )
        job = self.state.jobs.create(
            kind=SYNTH, owner=principal.name, dataset_id=record.dataset_id, params={"rows": rows, "seed": seed}
        )
        self._executor.submit(self._run, job.job_id, record, table_policy, rows, seed)
        return job

    def result_path(self, job_id: str) -> str:
        data_dir = self.state.datasets.data_dir
        assert data_dir is not None  # a synthesis job runs on an uploaded dataset, which needed the data dir
        directory = os.path.join(data_dir, "jobs")
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, f"{job_id}.parquet")

    def _run(self, job_id: str, record: DatasetRecord, table_policy, rows: int | None, seed: int | None) -> None:
        try:
            self.state.jobs.mark_running(job_id)
            result = synthesize(
                self.privacy.views.raw_table(record), table_policy.synthetic, table_policy.columns, rows=rows, seed=seed
            )
            path = self.result_path(job_id)
            write_table_atomic(result.table, path)
            self.state.jobs.mark_done(job_id, result_path=path, result_format="parquet")
        except JaneDoeInputError as error:
            self.state.jobs.mark_failed(job_id, code=error.code, message=str(error))
        except Exception:  # noqa: BLE001  (a job must end in a state, never vanish)
            log.exception("synthetic job failed")
            self.state.jobs.mark_failed(job_id, code="internal_error", message="internal error; please report it")

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
