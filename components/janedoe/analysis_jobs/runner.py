"""Runs claimed jobs: stage 2 in the sandbox (dp: stage-1 data + the query broker; review: the real table read-only,
then the automatic output checks), and stage 1 locally with the same argv, paths, environment and sandbox.

dp mode gives the sandbox no real data at all: only the stage-1 package's files at /data and a socket to a broker
outside, which answers under the AUTHOR's principal so the author's budget pays (before each answer). Those answers
are released at once as `dp_answers.json`; files the job writes are discarded. review mode mounts the real table at
/data/<table>.parquet; only the declared outputs are checked and kept for the reviewers, the rest is deleted.
"""

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from janedoe.analysis_jobs.job_folder import store_job_folder
from janedoe.analysis_jobs.manifest import load_manifest
from janedoe.analysis_jobs.queue import (
    AWAITING_REVIEW,
    FAILED,
    LIMIT_EXCEEDED,
    RELEASED,
    RUNNING,
    AnalysisJob,
    AnalysisJobs,
    JobOutput,
)
from janedoe.dataset_privacy import DatasetPrivacy
from janedoe.errors import JaneDoeInputError
from janedoe.output_checks import IdentifierIndex, OutputRules, check_outputs, identifier_columns
from janedoe.sandbox import SandboxMounts, SandboxOutcome, job_command, run_in_sandbox
from janedoe.service_store import Principal, StateStore, this_runner
from janedoe.stage_one import QueryBroker, broker_answerer, publish_stage_one

log = logging.getLogger("janedoe.analysis_jobs")
DP_ANSWERS = "dp_answers.json"
SANDBOX_DATA_DIR, SANDBOX_OUTPUT_DIR, SANDBOX_BROKER_SOCKET = "/data", "/output", "/run/janedoe/broker.sock"
_LIMIT_STATES = ("cpu_limit", "memory_limit", "wall_limit", "file_size_limit", "process_limit")


def job_environment(stage: int, mode: str) -> dict[str, str]:
    """The variables a job sees: the same in stage 1 and stage 2 but for the stage and (dp, stage 2) the broker."""
    env = {"JANEDOE_JOB_STAGE": str(stage), "JANEDOE_JOB_MODE": mode, "JANEDOE_DATA_DIR": SANDBOX_DATA_DIR,
           "JANEDOE_OUTPUT_DIR": SANDBOX_OUTPUT_DIR}
    if stage == 2 and mode == "dp":
        env["JANEDOE_BROKER_SOCKET"] = SANDBOX_BROKER_SOCKET
    return env


def package_mounts(package_dir: Path) -> dict[str, Path]:
    """Each file of a stage-1 package, to be bound at /data/<name>."""
    package_dir = Path(package_dir)
    if not package_dir.is_dir():
        raise JaneDoeInputError("no stage-1 package there", where=str(package_dir))
    return {entry.name: entry for entry in sorted(package_dir.iterdir()) if not entry.name.startswith(".")}


def run_local(job_dir: Path, package_dir: Path, output_dir: Path, *, log_path: Path | None = None,
              cancel: threading.Event | None = None) -> SandboxOutcome:
    """Stage 1: runs the job folder on the stage-1 package in the same sandbox, argv, paths and environment as stage
    2 (a job that works here works there). The folder is first copied the way the service stores it (links, special
    files and oversized folders refused). The log goes to `log_path` (default: `<output_dir>.log`)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_path) if log_path is not None else output_dir.with_name(output_dir.name + ".log")
    manifest = load_manifest(Path(job_dir))
    store = Path(tempfile.mkdtemp(prefix="janedoe-job-"))
    try:
        _digest, folder = store_job_folder(Path(job_dir), store)
        mounts = SandboxMounts(code_dir=folder, output_dir=output_dir, data=package_mounts(package_dir))
        return run_in_sandbox(job_command(manifest.entry), mounts, manifest.limits, log_path=log_path,
                              env=job_environment(1, manifest.mode), cancel=cancel)
    finally:
        for directory, _dirs, _files in os.walk(store):
            os.chmod(directory, 0o755)
        shutil.rmtree(store, ignore_errors=True)


class JobRunner:
    """What a runner process holds: the queue, the service state and its DatasetPrivacy (ledger + policies).

    `stage_one_dir` holds the stage-1 packages (`<dir>/<dataset_id>`), published on first use by a dp-mode job.
    """

    def __init__(self, jobs: AnalysisJobs, state: StateStore, privacy: DatasetPrivacy, *,
                 stage_one_dir: Path | None = None, runner: str | None = None, heartbeat_seconds: float = 10.0,
                 output_rules: OutputRules | None = None) -> None:
        self.jobs, self.state, self.privacy = jobs, state, privacy
        if stage_one_dir is None and jobs.jobs_dir is not None:
            stage_one_dir = jobs.jobs_dir.parent / "stage-one"
        self.stage_one_dir = Path(stage_one_dir) if stage_one_dir is not None else None
        self.runner = runner or this_runner()
        self.heartbeat_seconds = heartbeat_seconds
        self.output_rules = output_rules or OutputRules()

    def package_dir(self, dataset_id: str) -> Path:
        if self.stage_one_dir is None:
            raise JaneDoeInputError("this runner has no folder for stage-1 packages", where="--data-dir")
        return self.stage_one_dir / dataset_id

    def run_next(self, cancel: threading.Event | None = None) -> AnalysisJob | None:
        """Claims one job and runs it; None when nothing could be claimed."""
        job = self.jobs.claim(self.runner)
        return None if job is None else self.run(job, cancel=cancel)

    def serve(self, stop: threading.Event, *, poll_seconds: float = 2.0) -> None:
        """The runner process's loop: recover dead runners' jobs, then claim and run until `stop` is set."""
        while not stop.is_set():
            self.jobs.recover()
            if self.run_next(cancel=stop) is None:
                stop.wait(poll_seconds)

    def run(self, job: AnalysisJob, *, cancel: threading.Event | None = None) -> AnalysisJob:
        """Runs a job this runner claimed; always ends it in a state (never leaves it running)."""
        if job.state != RUNNING or job.runner != self.runner:
            raise JaneDoeInputError("the job is not running under this runner; claim it first", where=job.job_id)
        cancel = cancel or threading.Event()
        stop_beating = threading.Event()
        beating = threading.Thread(target=self._heartbeats, args=(job.job_id, stop_beating, cancel), daemon=True,
                                   name=f"janedoe-heartbeat-{job.job_id}")
        beating.start()
        try:
            state, details, outputs = self._run(job, cancel)
        except JaneDoeInputError as error:
            state, details, outputs = FAILED, {"reason": str(error)}, []
        except Exception:  # noqa: BLE001  (a job must end in a state, never stay running)
            log.exception("analysis job %s failed in the runner", job.job_id)
            state, details, outputs = FAILED, {"reason": "internal error in the runner; please report it"}, []
        finally:
            stop_beating.set()
            beating.join()
            shutil.rmtree(self.jobs.run_dir(job.job_id) / "output", ignore_errors=True)  # unchecked files go
        if not self.jobs.finish(job.job_id, self.runner, state, outputs=outputs, **details):
            log.warning("analysis job %s was taken from this runner (recovered) before it finished", job.job_id)
        return self.jobs.get(job.job_id)

    def _heartbeats(self, job_id: str, stop: threading.Event, cancel: threading.Event) -> None:
        while not stop.wait(self.heartbeat_seconds):
            if not self.jobs.heartbeat(job_id, self.runner):
                cancel.set()  # recovered by someone else: stop spending on a job we no longer own
                return

    def _run(self, job: AnalysisJob, cancel: threading.Event) -> tuple[str, dict, list[JobOutput]]:
        manifest = job.manifest
        record = self.state.datasets.get(job.dataset_id)
        author = Principal(key_id=f"job-{job.job_id}", name=job.author, role=job.author_role, admin=False)
        self.privacy.check_role(record, author)
        run_dir = self.jobs.run_dir(job.job_id)
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, mode=0o700)
        output_dir = run_dir / "output"
        output_dir.mkdir(mode=0o700)
        log_path = self.jobs.log_path(job.job_id)
        argv = job_command(manifest.entry)
        if manifest.mode == "dp":
            package = publish_stage_one(record, self.privacy, package_dir=self.package_dir(job.dataset_id))
            socket_dir = Path(tempfile.mkdtemp(prefix="jd-broker-"))  # short: a socket path has at most 107 bytes
            try:
                with QueryBroker(socket_dir / "broker.sock", broker_answerer(record, self.privacy, author)) as broker:
                    mounts = SandboxMounts(code_dir=Path(job.folder_path), output_dir=output_dir,
                                           data=package_mounts(package), broker_socket=broker.socket_path)
                    outcome = run_in_sandbox(argv, mounts, manifest.limits, log_path=log_path,
                                             env=job_environment(2, "dp"), cancel=cancel)
                answers = list(broker.answered)
            finally:
                shutil.rmtree(socket_dir, ignore_errors=True)
            outputs = [self._release_answers(job, answers)]  # paid for: released whatever the job's end
            return _ended(outcome, RELEASED), _details(outcome), outputs
        table_file = f"{record.table_name}.parquet"
        mounts = SandboxMounts(code_dir=Path(job.folder_path), output_dir=output_dir,
                               data={table_file: Path(record.data_path)})
        outcome = run_in_sandbox(argv, mounts, manifest.limits, log_path=log_path, env=job_environment(2, "review"),
                                 cancel=cancel)
        if outcome.state != "succeeded":
            return _ended(outcome, AWAITING_REVIEW), _details(outcome), []
        outputs = self._check(job, record, output_dir, run_dir / "checked")
        return AWAITING_REVIEW, _details(outcome), outputs

    def _check(self, job: AnalysisJob, record, output_dir: Path, checked_dir: Path) -> list[JobOutput]:
        table_policy = self.privacy.views.policy(record).tables[record.table_name]
        identifying = identifier_columns(table_policy) | self.output_rules.identifier_columns
        raw = self.privacy.views.raw_table(record)
        index = IdentifierIndex.from_table(raw, [name for name in raw.column_names if name.lower() in identifying])
        rules = dataclasses.replace(self.output_rules, identifier_columns=frozenset(identifying))
        checked_dir.mkdir(mode=0o700, exist_ok=True)
        results = check_outputs(output_dir, job.manifest.outputs, rules, identifiers=index, checked_dir=checked_dir)
        outputs = [JobOutput(
            job_id=job.job_id, path=result.path, kind=result.kind, passed=result.passed,
            findings=[dataclasses.asdict(finding) for finding in result.findings], sha256=result.sha256,
            stored_path=str(result.checked_file) if result.checked_file is not None else None, released=False,
        ) for result in results]
        summary = " ".join(f"{output.path}:{'passed' if output.passed else 'blocked'}"
                           f"[{','.join(sorted({f['check'] for f in output.findings}))}]" for output in outputs)
        self.jobs.audit.record(analyst=job.author, role="runner", action="job_checked", dataset_id=job.dataset_id,
                               detail=f"job={job.job_id} {summary}"[:4000])
        return outputs

    def _release_answers(self, job: AnalysisJob, answers: list[dict]) -> JobOutput:
        released_dir = self.jobs.run_dir(job.job_id) / "released"
        released_dir.mkdir(mode=0o700, exist_ok=True)
        data = (json.dumps({"job_id": job.job_id, "dataset_id": job.dataset_id, "answers": answers}, indent=2)
                + "\n").encode()
        target = released_dir / DP_ANSWERS
        temporary = released_dir / f".{DP_ANSWERS}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        return JobOutput(job_id=job.job_id, path=DP_ANSWERS, kind="dp_answers", passed=True, findings=[],
                         sha256=hashlib.sha256(data).hexdigest(), stored_path=str(target), released=True)


def run_job(job: AnalysisJob, *, jobs: AnalysisJobs, state: StateStore, privacy: DatasetPrivacy,
            cancel: threading.Event | None = None, **options) -> AnalysisJob:
    """Runs one claimed job (see JobRunner for the options); the runner id must be the one that claimed it."""
    options.setdefault("runner", job.runner)
    return JobRunner(jobs, state, privacy, **options).run(job, cancel=cancel)


def _ended(outcome: SandboxOutcome, success_state: str) -> str:
    if outcome.state == "succeeded":
        return success_state
    return LIMIT_EXCEEDED if outcome.state in _LIMIT_STATES else FAILED


def _details(outcome: SandboxOutcome) -> dict:
    details: dict[str, Any] = {"exit_code": outcome.exit_code, "seconds": round(outcome.seconds, 3)}
    if outcome.state in _LIMIT_STATES:
        details["limit"] = outcome.state
        details["reason"] = f"the job hit its {outcome.state.removesuffix('_limit').replace('_', ' ')} limit"
    elif outcome.state != "succeeded":
        details["reason"] = f"the job ended with exit code {outcome.exit_code} ({outcome.state})"
    return details
