"""QueryBroker over a real Unix socket, answering with the real DatasetPrivacy and ledger (charge first)."""

import json
import os
import socket
import stat

import pytest
from janedoe.dataset_masking import RoleNotAllowedError
from janedoe.errors import JaneDoeInputError
from janedoe.service_store import Principal
from janedoe.stage_one import QueryBroker, broker_answerer

from .conftest import ROWS


class Job:
    """The job's side: one connection, one JSON line each way."""

    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(30)
        self.socket.connect(str(path))
        self.replies = self.socket.makefile("rb")

    def send(self, line: bytes) -> dict | None:
        self.socket.sendall(line)
        reply = self.replies.readline()
        return json.loads(reply) if reply else None

    def ask(self, expression="count", epsilon=0.1, by=None) -> dict:
        return self.send(json.dumps({"expression": expression, "by": by, "epsilon": epsilon}).encode() + b"\n")

    def close(self):
        self.replies.close()
        self.socket.close()


@pytest.fixture
def socket_path(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    return folder / "broker.sock"


def _spent(privacy, record, analyst="ana"):
    return privacy.ledger.budget(record.dataset_id, analyst).spent


def test_each_answer_is_charged_and_kept_for_the_release(dataset, analyst, socket_path):
    record, privacy, raw = dataset
    with QueryBroker(socket_path, broker_answerer(record, privacy, analyst)) as broker:
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o600
        job = Job(socket_path)
        spent = []
        for expression, by in (("count", None), ("mean(age)", "region"), ("count", "status")):
            reply = job.ask(expression, epsilon=0.1, by=by)
            assert reply["ok"] is True, reply
            spent.append(_spent(privacy, record))
        job.close()
    assert spent == pytest.approx([0.1, 0.2, 0.3])  # budget down by epsilon per answer, charged by the time it came
    assert len(privacy.ledger.spends(dataset=record.dataset_id, analyst="ana")) == 3
    first = broker.answered[0]
    assert first["request"] == {"expression": "count", "by": None, "epsilon": 0.1}
    assert abs(first["reply"]["answer"]["value"] - ROWS) < 150  # Laplace scale 10: off by 150 w.p. ~ e^-15
    assert {g["key"] for g in broker.answered[1]["reply"]["answer"]["groups"]} == {"north", "south", "east", "west"}
    assert not socket_path.exists()


def test_a_spent_budget_gets_an_error_reply_charges_nothing_and_the_job_goes_on(dataset, analyst, socket_path):
    record, privacy, _raw = dataset
    with QueryBroker(socket_path, broker_answerer(record, privacy, analyst)) as broker:
        job = Job(socket_path)
        assert [job.ask(epsilon=0.4)["ok"] for _ in range(2)] == [True, True]
        refused = job.ask(epsilon=0.4)
        assert refused["ok"] is False and "budget exceeded" in refused["error"] and "\n" not in refused["error"]
        assert _spent(privacy, record) == pytest.approx(0.8)
        assert job.ask(epsilon=0.2)["ok"] is True  # the same connection still works
        job.close()
    assert _spent(privacy, record) == pytest.approx(1.0)
    assert [entry["reply"]["ok"] for entry in broker.answered] == [True, True, False, True]


MALFORMED = [
    b"not json\n",
    b"[1, 2]\n",
    b'{"expression": "count"}\n',
    b'{"expression": "count", "epsilon": -1}\n',
    b'{"expression": "count", "epsilon": 0}\n',
    b'{"expression": "count", "epsilon": NaN}\n',
    b'{"expression": "count", "epsilon": Infinity}\n',
    b'{"expression": "count", "epsilon": 1e999}\n',
    b'{"expression": "count", "epsilon": true}\n',
    b'{"expression": "count", "epsilon": "0.1"}\n',
    b'{"expression": "count", "epsilon": 0.1, "delta": 0.5}\n',
    b'{"expression": 7, "epsilon": 0.1}\n',
    b'{"expression": "count", "by": 3, "epsilon": 0.1}\n',
    b'{"expression": "drop table people", "epsilon": 0.1}\n',
    b'{"expression": "mean(nosuchcolumn)", "epsilon": 0.1}\n',
    b"[" * 5000 + b"\n",
    b"\xff\xfe\n",
]


def test_a_malformed_request_gets_an_error_reply_and_nothing_is_charged(dataset, analyst, socket_path):
    record, privacy, _raw = dataset
    with QueryBroker(socket_path, broker_answerer(record, privacy, analyst)) as broker:
        job = Job(socket_path)
        for line in MALFORMED:
            reply = job.send(line)
            assert reply["ok"] is False and reply["error"] and "\n" not in reply["error"], line
        assert privacy.ledger.spends(dataset=record.dataset_id) == []
        assert job.ask()["ok"] is True  # the job goes on, on the same connection
        job.close()
    assert broker.asked == len(MALFORMED) + 1


def test_an_oversized_request_is_refused_and_ends_the_connection(dataset, analyst, socket_path):
    record, privacy, _raw = dataset
    with QueryBroker(socket_path, broker_answerer(record, privacy, analyst)) as broker:
        job = Job(socket_path)
        padded = json.dumps({"expression": "count" + " " * 20_000, "epsilon": 0.1}).encode() + b"\n"
        reply = job.send(padded)
        assert reply["ok"] is False and "too large" in reply["error"]
        assert job.replies.readline() == b""  # closed: the rest of that line is never read as a request
        job.close()
        assert Job(socket_path).ask()["ok"] is True  # a new connection is served
    assert privacy.ledger.spends(dataset=record.dataset_id, analyst="ana")[0].query == "count"
    assert len(broker.answered) == 1


def test_after_max_queries_every_reply_is_an_error(dataset, analyst, socket_path):
    record, privacy, _raw = dataset
    with QueryBroker(socket_path, broker_answerer(record, privacy, analyst), max_queries=3) as broker:
        job = Job(socket_path)
        replies = [job.ask(epsilon=0.05) for _ in range(3)] + [job.send(b"junk\n")] + [job.ask(epsilon=0.05)]
        other = Job(socket_path)
        replies.append(other.ask(epsilon=0.05))
        job.close()
        other.close()
    assert [reply["ok"] for reply in replies] == [True, True, True, False, False, False]
    assert all("maximum of 3 queries" in reply["error"] for reply in replies[3:])
    assert _spent(privacy, record) == pytest.approx(0.15) and len(broker.answered) == 3


def test_connections_are_capped(dataset, analyst, socket_path):
    record, privacy, _raw = dataset
    with QueryBroker(socket_path, broker_answerer(record, privacy, analyst), max_connections=1):
        first = Job(socket_path)
        assert first.ask()["ok"] is True
        second = Job(socket_path)
        refused = second.replies.readline()
        assert json.loads(refused)["ok"] is False and "too many connections" in json.loads(refused)["error"]
        assert second.replies.readline() == b""
        assert first.ask()["ok"] is True
        first.close()
        second.close()


def test_the_socket_must_live_in_a_private_folder(dataset, analyst, tmp_path):
    record, privacy, _raw = dataset
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    with pytest.raises(JaneDoeInputError, match="private"):
        QueryBroker(shared / "broker.sock", broker_answerer(record, privacy, analyst)).__enter__()
    assert not (shared / "broker.sock").exists()
    made = tmp_path / "made" / "here"
    with QueryBroker(made / "broker.sock", broker_answerer(record, privacy, analyst)):
        assert stat.S_IMODE(os.stat(made).st_mode) == 0o700


def test_an_author_the_policy_gives_no_role_cannot_get_an_answerer(dataset):
    record, privacy, _raw = dataset
    with pytest.raises(RoleNotAllowedError):
        broker_answerer(record, privacy, Principal(key_id="k", name="eve", role="intern", admin=False))
