"""`janedoe-api runner`: the process that runs queued analysis jobs in the sandbox, beside (or apart from) the API.

Any number of runner processes, on any hosts sharing the state and the data directory, may run at once: each claim is
atomic. Each of this process's slots loops: recover the jobs of dead runners, claim one, run it (heartbeats while it
runs). SIGINT or SIGTERM stops it cleanly: the running jobs are cancelled (their sandboxes killed) and marked failed.
"""

import signal
import sys
import threading

from janedoe.errors import JaneDoeInputError


def run_runner(state_url: str, *, data_dir: str | None, max_jobs: int, once: bool, per_analyst: int,
               poll_seconds: float, heartbeat_seconds: float) -> None:
    from janedoe.analysis_jobs import AnalysisJobs, JobRunner
    from janedoe.dataset_masking import MaskedViews
    from janedoe.dataset_privacy import DatasetPrivacy
    from janedoe.ledger import Ledger
    from janedoe.sandbox import sandbox_available
    from janedoe.service_store import StateStore

    for value, flag in ((max_jobs, "--max-jobs"), (per_analyst, "--per-analyst")):
        if value < 1:
            raise JaneDoeInputError("must be at least 1", where=flag)
    for seconds, flag in ((poll_seconds, "--poll-seconds"), (heartbeat_seconds, "--heartbeat-seconds")):
        if not 0 < seconds <= 3600:
            raise JaneDoeInputError("must be more than 0 and at most 3600", where=flag)
    problem = sandbox_available()
    if problem is not None:
        raise JaneDoeInputError(f"cannot run jobs: {problem}", where="sandbox")
    state = StateStore.open(state_url, data_dir=data_dir)
    try:
        if state.datasets.data_dir is None:
            raise JaneDoeInputError("a PostgreSQL state needs --data-dir (the folder the API servers use)",
                                    where="--data-dir")
        privacy = DatasetPrivacy(Ledger.open(state.ledger_url), MaskedViews())
        jobs = AnalysisJobs.from_state(state, max_running_per_analyst=per_analyst,
                                       heartbeat_timeout=max(120.0, 6 * heartbeat_seconds))
        runner = JobRunner(jobs, state, privacy, heartbeat_seconds=heartbeat_seconds)
        stop = threading.Event()
        _stop_on_signals(stop)
        slots = [threading.Thread(target=_slot, args=(runner, stop, once, poll_seconds), name=f"janedoe-slot-{n}")
                 for n in range(max_jobs)]
        _say(f"runner {runner.runner}: {max_jobs} slot(s), {'one pass' if once else 'until stopped'}")
        for slot in slots:
            slot.start()
        while any(slot.is_alive() for slot in slots):
            for slot in slots:
                slot.join(0.2)  # short joins: the main thread must stay free to take the signals
        _say("runner stopped" if stop.is_set() else "runner done")
        privacy.ledger.close()
    finally:
        state.close()


def _slot(runner, stop: threading.Event, once: bool, poll_seconds: float) -> None:
    while not stop.is_set():
        recovered = runner.jobs.recover()
        for job_id in recovered:
            _say(f"job {job_id}: failed (its runner stopped)")
        job = runner.run_next(cancel=stop)
        if job is not None:
            _say(f"job {job.job_id}: {job.state}" + (f" ({job.limit_hit})" if job.limit_hit else ""))
        if once:
            return
        if job is None:
            stop.wait(poll_seconds)


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum, _frame):
        _say("stopping: cancelling the running jobs (again to force)")
        stop.set()
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.default_int_handler)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
