"""read_ahead and WriteBehind keep order, pass a stage's error on to the caller, and never leave a thread behind."""

import threading
import time

import pytest
from janedoe.tabular import WriteBehind, read_ahead


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("janedoe-")}


def test_read_ahead_keeps_order_and_stays_bounded():
    produced = []

    def source():
        for i in range(50):
            produced.append(i)
            yield i

    seen = []
    for item in read_ahead(source(), depth=2):
        time.sleep(0.001)
        assert len(produced) - len(seen) <= 4  # the one in hand, the queue, and the one the producer holds
        seen.append(item)
    assert seen == list(range(50))
    assert not _threads()


def test_read_ahead_raises_the_producers_error_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise ValueError("line 3: bad row")

    seen = []
    with pytest.raises(ValueError, match="line 3"):
        for item in read_ahead(source()):
            seen.append(item)
    assert seen == [1, 2]
    assert not _threads()


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in read_ahead(endless()):
        if item == 3:
            break
    time.sleep(0.05)
    count = len(produced)
    time.sleep(0.1)
    assert len(produced) == count <= 6
    assert not _threads()


def test_write_behind_writes_everything_in_order():
    written = []
    with WriteBehind(lambda item: (time.sleep(0.001), written.append(item))) as output:
        for i in range(30):
            output.put(i)
    assert written == list(range(30))


def test_write_behind_raises_a_failed_write_at_the_next_put_or_at_the_end():
    def write(item):
        if item == 2:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with WriteBehind(write) as output:
            for i in range(10):
                output.put(i)
    with pytest.raises(OSError, match="disk full"):
        with WriteBehind(write) as output:
            output.put(2)  # the last write fails: leaving the block raises it


def test_write_behind_does_not_hide_the_blocks_own_error():
    with pytest.raises(KeyError):
        with WriteBehind(lambda item: None) as output:
            output.put(1)
            raise KeyError("the caller's failure")


def test_the_producer_closes_its_source_in_its_own_thread_when_the_consumer_stops():
    closed_in = []

    def source():
        try:
            while True:
                yield 1
        finally:
            closed_in.append(threading.current_thread().name)

    stream = read_ahead(source())
    next(stream)
    stream.close()
    assert closed_in == ["janedoe-read-ahead"]
    assert not _threads()


ABANDONING_CONSUMER = """
import sys
from janedoe.tabular import iter_batches, read_ahead
batches = read_ahead(iter_batches(sys.argv[1], batch_size=500), depth=1000)
next(batches)  # the producer keeps parsing in Arrow while the interpreter exits
sys.exit(2)
"""


def test_exiting_while_the_producer_is_inside_arrow_keeps_the_exit_code(tmp_path):
    """A daemon producer still in Arrow's JSON reader at exit was killed mid-call: SIGSEGV or SIGABRT ("terminate
    called without an active exception", exit 134) instead of the exit code, in about half of these runs."""
    import subprocess
    import sys
    from pathlib import Path

    import pyarrow as pa
    from janedoe.tabular import read_table, write_table_atomic

    customers = Path(__file__).resolve().parents[4] / "data" / "demo" / "customers.csv"
    path = tmp_path / "big.jsonl"
    write_table_atomic(pa.concat_tables([read_table(customers)] * 30), path)
    codes = [
        subprocess.run([sys.executable, "-c", ABANDONING_CONSUMER, str(path)], capture_output=True, timeout=120)
        .returncode
        for _ in range(12)
    ]
    assert codes == [2] * 12
