"""Progress of a session's running Spark jobs, for a display: finished and total tasks of the active stages."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def running_tasks(spark: SparkSession) -> tuple[int, int] | None:
    """(finished, total) tasks over the active stages, or None when no stage runs."""
    tracker = spark.sparkContext.statusTracker()
    done = total = 0
    for stage_id in tracker.getActiveStageIds():
        info = tracker.getStageInfo(stage_id)
        if info is not None:
            done += info.numCompletedTasks
            total += info.numTasks
    return (done, total) if total else None


def watch_jobs(spark: SparkSession, show: Callable[[str], None], every: float = 0.5) -> Callable[[], None]:
    """Call `show("n/m tasks")` while stages run, from a daemon thread; returns the function that stops it."""
    stopped = threading.Event()

    def poll() -> None:
        while not stopped.wait(every):
            try:
                progress = running_tasks(spark)
            except Exception:  # noqa: BLE001  (the session is stopping: nothing left to show)
                return
            show(f"{progress[0]}/{progress[1]} tasks" if progress else "planning")

    thread = threading.Thread(target=poll, name="janedoe-spark-progress", daemon=True)
    thread.start()

    def stop() -> None:
        stopped.set()
        thread.join(timeout=2)

    return stop
