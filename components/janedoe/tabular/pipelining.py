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


def _close(items: Iterable) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()


def read_ahead(batches: Iterable, depth: int = 1) -> Iterator:
    """The same items, produced by a background thread up to `depth` ahead of the consumer.

    The producer closes `batches` itself (so a reader's resources are released in the thread that used them) and
    is joined before this generator finishes. It is not a daemon: a daemon thread still inside Arrow when the
    interpreter exits is ended mid-call, which aborts the process ("terminate called without an active
    exception"). If the consumer never closes this generator, the producer stops on its own once the main thread
    has finished, so it never holds up the exit either.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    main = threading.main_thread()

    def stopping() -> bool:
        return stop.is_set() or not main.is_alive()

    def offer(entry: tuple) -> bool:
        """Put an entry unless the consumer has gone; whether it was put."""
        while not stopping():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches:
                if not offer((item, None)):
                    return
            offer((_DONE, None))
        except BaseException as error:  # noqa: BLE001  (handed to the consumer, which raises it)
            offer((_DONE, error))
        finally:
            try:
                _close(batches)
            except BaseException:  # noqa: BLE001  (a failure to clean up must not hide the stage's own error)
                pass

    thread = threading.Thread(target=produce, name="janedoe-read-ahead")
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
        _join(thread, ready)


def _join(thread: threading.Thread, ready: queue.Queue) -> None:
    """Unblock a producer waiting to put, let it finish its current item, and wait for it; a Ctrl-C while waiting
    still waits (the thread stops within one item), then is raised."""
    interrupted: BaseException | None = None
    while thread.is_alive():
        try:
            ready.get(timeout=0.1)
        except queue.Empty:
            pass
        except KeyboardInterrupt as error:
            interrupted = error
    thread.join()
    if interrupted is not None:
        raise interrupted


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
