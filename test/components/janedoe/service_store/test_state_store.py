"""The service state against real databases: a SQLite file and a throwaway PostgreSQL."""

import os
import subprocess
import sys
import textwrap

import pytest
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.service_store import DONE, FAILED, QUEUED, RUNNING, StateStore
from sqlalchemy import select


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request, tmp_path):
    if request.param == "sqlite":
        store = StateStore.open(str(tmp_path / "state.db"))
    else:
        store = StateStore.open(request.getfixturevalue("postgres_url"), data_dir=str(tmp_path / "data"))
    yield store
    store.close()


def test_a_key_verifies_only_with_its_exact_secret(state):
    key, info = state.keys.create(role="analyst", name="alice")
    principal = state.keys.verify(key)
    assert (principal.name, principal.role, principal.admin) == ("alice", "analyst", False)
    assert principal.key_id == info.key_id
    prefix, secret = key[:19], key[20:]
    flipped = secret[:-1] + ("B" if secret[-1] != "B" else "C")
    assert state.keys.verify(f"{prefix}_{flipped}") is None
    assert state.keys.verify(key + "x") is None
    assert state.keys.verify("") is None
    assert state.keys.verify(f"jd_{'0' * 16}_{secret}") is None


def _parts(key: str) -> tuple[str, str]:
    """A key is jd_<16 hex id>_<43-char secret>; the secret itself may contain '_'."""
    assert key.startswith("jd_") and key[19] == "_"
    return key[3:19], key[20:]


def test_only_a_salted_hmac_of_the_key_is_stored(state):
    from janedoe.service_store.tables import api_keys

    first, _ = state.keys.create(role="analyst", name="alice")
    second, _ = state.keys.create(role="analyst", name="alice")
    with state.engine.connect() as conn:
        rows = conn.execute(select(api_keys)).mappings().all()
    secrets_ = {first[20:], second[20:]}
    for row in rows:
        stored = " ".join(str(value) for value in row.values())
        assert not any(secret in stored for secret in secrets_)
    assert len({row["salt"] for row in rows}) == 2
    import hashlib
    import hmac

    for key in (first, second):
        key_id, secret = _parts(key)
        row = next(row for row in rows if row["key_id"] == key_id)
        expected = hmac.new(bytes.fromhex(row["salt"]), secret.encode(), hashlib.sha256).hexdigest()
        assert row["digest"] == expected
        assert row["digest"] != hashlib.sha256(secret.encode()).hexdigest()


def test_a_revoked_key_stops_verifying_and_cannot_be_revoked_twice(state):
    key, info = state.keys.create(role="support", name="bob", admin=True)
    assert state.keys.verify(key).admin is True
    state.keys.revoke(info.key_id)
    assert state.keys.verify(key) is None
    with pytest.raises(NotFoundError):
        state.keys.revoke(info.key_id)
    listed = {item.key_id: item for item in state.keys.list()}
    assert listed[info.key_id].revoked_at is not None


def test_the_tools_permission_is_granted_per_key_and_implied_by_admin(state):
    plain, plain_info = state.keys.create(role="analyst", name="alice")
    tools, tools_info = state.keys.create(role="analyst", name="bob", tools=True)
    admin, admin_info = state.keys.create(role="owner", name="root", admin=True)
    assert [state.keys.verify(key).tools for key in (plain, tools, admin)] == [False, True, True]
    assert [info.tools for info in (plain_info, tools_info, admin_info)] == [False, True, True]
    listed = {item.key_id: item.tools for item in state.keys.list()}
    assert [listed[info.key_id] for info in (plain_info, tools_info, admin_info)] == [False, True, True]
    state.keys.revoke(tools_info.key_id)
    assert state.keys.verify(tools) is None


@pytest.mark.parametrize("role,name", [("", "alice"), ("analyst", "a b"), ("analyst", "x" * 200), ("-x", "alice")])
def test_bad_role_or_name_is_an_input_error(state, role, name):
    with pytest.raises(JaneDoeInputError):
        state.keys.create(role=role, name=name)


def test_datasets_register_get_list_delete(state):
    dataset_id, data_path = state.datasets.new_data_path(".parquet")
    assert os.path.dirname(data_path) == state.datasets.data_dir
    with open(data_path, "wb") as handle:
        handle.write(b"not really parquet; the registry does not read it")
    columns = [{"name": "email", "type": "string"}, {"name": "age", "type": "int64"}]
    record = state.datasets.register(
        dataset_id=dataset_id, name="customers", table_name="customers", data_path=data_path,
        policy_text="version: 1\n", row_count=12, columns=columns, created_by="root",
    )
    again = state.datasets.get(dataset_id)
    assert again == record
    assert [item.dataset_id for item in state.datasets.list()] == [dataset_id]
    state.datasets.delete(dataset_id)
    assert not os.path.exists(data_path)
    with pytest.raises(NotFoundError):
        state.datasets.get(dataset_id)
    with pytest.raises(NotFoundError):
        state.datasets.delete(dataset_id)


def test_deleting_a_dataset_never_removes_a_file_outside_the_data_dir(state, tmp_path):
    outside = tmp_path / "source.csv"
    outside.write_text("a\n1\n")
    state.datasets.register(
        dataset_id="feedfacefeedface", name="s", table_name="s", data_path=str(outside), policy_text="",
        row_count=1, columns=[], created_by="root",
    )
    state.datasets.delete("feedfacefeedface")
    assert outside.read_text() == "a\n1\n"


def test_job_lifecycle(state):
    job = state.jobs.create(kind="synth", owner="alice", dataset_id=None, params={"rows": 10})
    assert state.jobs.get(job.job_id).status == QUEUED
    state.jobs.mark_running(job.job_id)
    assert state.jobs.get(job.job_id).status == RUNNING
    state.jobs.mark_done(job.job_id, result_path="/tmp/x.csv", result_format="csv")
    done = state.jobs.get(job.job_id)
    assert (done.status, done.result_path, done.params) == (DONE, "/tmp/x.csv", {"rows": 10})
    failing = state.jobs.create(kind="synth", owner="alice", dataset_id=None, params={})
    state.jobs.mark_failed(failing.job_id, code="bad_input", message="no such column")
    assert (state.jobs.get(failing.job_id).status, state.jobs.get(failing.job_id).error_code) == (FAILED, "bad_input")
    with pytest.raises(NotFoundError):
        state.jobs.get("0000000000000000")


def test_a_job_left_running_by_a_dead_process_is_marked_failed(tmp_path):
    url = str(tmp_path / "state.db")
    script = textwrap.dedent(
        f"""
        from janedoe.service_store import StateStore
        state = StateStore.open({url!r})
        job = state.jobs.create(kind="synth", owner="alice", dataset_id=None, params={{}})
        state.jobs.mark_running(job.job_id)
        print(job.job_id)
        """
    )
    job_id = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    state = StateStore.open(url)
    alive = state.jobs.create(kind="synth", owner="bob", dataset_id=None, params={})
    assert state.jobs.get(job_id).status == RUNNING
    assert state.jobs.fail_orphans() == 1
    assert (state.jobs.get(job_id).status, state.jobs.get(job_id).error_code) == (FAILED, "interrupted")
    assert state.jobs.get(alive.job_id).status == QUEUED
    state.close()


def test_audit_log_records_and_filters(state):
    state.audit.record(analyst="alice", role="analyst", action="dataset.rows", dataset_id="d1", detail="o=0", rows=5)
    state.audit.record(analyst="bob", role="support", action="dataset.rows", dataset_id="d2", rows=7)
    state.audit.record(analyst="alice", role="analyst", action="dp.query", dataset_id="d2")
    assert [entry.action for entry in state.audit.entries(analyst="alice")] == ["dp.query", "dataset.rows"]
    assert [entry.analyst for entry in state.audit.entries(dataset_id="d2")] == ["alice", "bob"]
    assert state.audit.entries(dataset_id="d1")[0].rows == 5
    assert len(state.audit.entries(limit=2)) == 2


def test_two_stores_on_one_postgresql_share_keys_and_datasets(postgres_url, tmp_path):
    first = StateStore.open(postgres_url, data_dir=str(tmp_path))
    second = StateStore.open(postgres_url, data_dir=str(tmp_path))
    key, _ = first.keys.create(role="analyst", name="alice")
    assert second.keys.verify(key).name == "alice"
    second.audit.record(analyst="alice", role="analyst", action="x")
    assert first.audit.entries()[0].action == "x"
    first.close()
    second.close()


def test_processes_starting_at_once_on_one_postgresql_all_get_a_usable_schema(postgres_url):
    script = "import sys; from janedoe.service_store import StateStore; StateStore.open(sys.argv[1]).keys.list()"
    argv = [sys.executable, "-c", script, postgres_url]
    processes = [subprocess.Popen(argv, stderr=subprocess.PIPE) for _ in range(2)]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()[-500:]


def test_a_bad_state_url_is_an_input_error(tmp_path):
    with pytest.raises(JaneDoeInputError):
        StateStore.open("mysql://somewhere/db")
    with pytest.raises(JaneDoeInputError):
        StateStore.open(str(tmp_path / "missing-dir" / "state.db"))


def test_postgresql_state_without_data_dir_refuses_datasets(postgres_url):
    state = StateStore.open(postgres_url)
    with pytest.raises(JaneDoeInputError):
        state.datasets.new_data_path()
    state.close()


def test_concurrent_audit_records_are_each_stored_once_before_returning(state):
    import threading

    missing = []

    def reader_of(number: int) -> None:
        detail = f"n={number}"
        state.audit.record(analyst="ana", role="analyst", action="dataset.rows", dataset_id="d", detail=detail)
        # record() returns only once the entry is committed: it must be visible right away.
        if detail not in {entry.detail for entry in state.audit.entries(dataset_id="d", limit=1000)}:
            missing.append(detail)

    threads = [threading.Thread(target=reader_of, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    details = [entry.detail for entry in state.audit.entries(dataset_id="d", limit=1000)]
    assert missing == []
    assert sorted(details) == sorted(f"n={number}" for number in range(40))
