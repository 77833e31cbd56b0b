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
