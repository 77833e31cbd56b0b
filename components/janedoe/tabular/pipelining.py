"""Overlapping a batch pipeline's stages: reading the next batch and writing the last one while this one is masked.

Arrow's readers and writers release the GIL while they parse, encode and do I/O, so on two cores a stage that waits
on them can run beside Python work. Each helper holds at most `depth` batches beyond the one being worked on, keeps
the order, and passes a stage's error on to the caller at the next batch.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

_DONE = object()


def read_ahead(batches: Iterable, depth: int = 1) -> Iterator:
    """The same items, produced by a background thread up to `depth` ahead of the consumer."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        ready.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((_DONE, None))
        except BaseException as error:  # noqa: BLE001  (handed to the consumer, which raises it)
            ready.put((_DONE, error))

    thread = threading.Thread(target=produce, name="janedoe-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting to put, then let it finish its current item
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()


class WriteBehind:
    """Calls `write(item)` in one background thread, in order, at most one item behind the caller.

    Use as a context manager; `put` raises the error of an earlier write, and leaving the block waits for the last
    write (and raises its error) unless the block is already failing.
    """

    def __init__(self, write: Callable) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="janedoe-write-behind")
        self._pending: Future | None = None

    def __enter__(self) -> "WriteBehind":
        return self

    def put(self, item) -> None:
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self._write, item)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._pending is not None and exc_type is None:
                self._pending.result()
        finally:
            self._pool.shutdown(wait=True)
