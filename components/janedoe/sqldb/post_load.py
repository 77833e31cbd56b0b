"""Builds keys, uniques, indexes and foreign keys of the tables already loaded while later tables are still copying.

PostgreSQL builds an index or checks a foreign key on one core; running each step on a connection of its own, as
soon as the tables it needs are loaded, overlaps that work with the copy of the next tables instead of adding it at
the end. A step never starts while another step touches one of its tables (so steps never wait on each other's
locks, and cannot deadlock), and a foreign key starts only after the keys and uniques of both its tables exist.
"""

import threading

from janedoe.sqldb.table_writer import PostLoadStep, TargetWriter


class PostLoadBuilder:
    def __init__(self, writer_factory, steps: list[PostLoadStep], workers: int = 2) -> None:
        self._writers: list[TargetWriter] = [writer_factory() for _ in range(max(1, workers))]
        done = self._writers[0].steps_done() if steps else set()
        self._waiting = [step for step in steps if step.sql not in done]
        self._unfinished_keys = {
            table: sum(1 for step in self._waiting if not step.foreign_key and step.table == table)
            for table in {step.table for step in self._waiting}
        }
        self._loaded: set[str] = set()
        self._busy: set[str] = set()
        self._running = 0
        self._failure: BaseException | None = None
        self._closing = False
        self._changed = threading.Condition()
        self._threads = [
            threading.Thread(target=self._work, args=(writer,), name=f"janedoe-post-load-{index}", daemon=True)
            for index, writer in enumerate(self._writers)
        ]
        for thread in self._threads:
            thread.start()

    def table_loaded(self, name: str) -> None:
        """Steps whose tables are now all loaded may start; raises the error of a step that already failed."""
        with self._changed:
            self._raise_failure()
            self._loaded.add(name)
            self._changed.notify_all()

    def wait(self) -> None:
        """Every step done (or the first error raised). Call once every table is loaded."""
        with self._changed:
            while (self._waiting or self._running) and self._failure is None:
                self._changed.wait()
            self._raise_failure()

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()
        for writer in self._writers:
            writer.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _ready(self, step: PostLoadStep) -> bool:
        if not self._loaded.issuperset(step.needs) or self._busy.intersection(step.needs):
            return False
        return not step.foreign_key or not any(self._unfinished_keys.get(table) for table in step.needs)

    def _work(self, writer: TargetWriter) -> None:
        while True:
            with self._changed:
                step = None
                while step is None:
                    if self._closing or self._failure is not None:
                        return
                    step = next((s for s in self._waiting if self._ready(s)), None)
                    if step is None:
                        self._changed.wait()
                self._waiting.remove(step)
                self._busy.update(step.needs)
                self._running += 1
            failure = None
            try:
                writer.run_step(step)
            except BaseException as error:  # noqa: BLE001  (handed to the copying thread, which raises it)
                failure = error
            with self._changed:
                self._running -= 1
                self._busy.difference_update(step.needs)
                if failure is not None and self._failure is None:
                    self._failure = failure
                if failure is None and not step.foreign_key:
                    self._unfinished_keys[step.table] -= 1
                self._changed.notify_all()
