"""Registering an uploaded file: a policy that cannot mask it, or that could leak or average away, is refused and
leaves nothing behind."""

import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.errors import JaneDoeInputError
from janedoe.service_store import StateStore

POLICY = """\
version: 1
tables:
  people:
    columns:
      email: {mask: partial_email}
      age:   {mask: generalize, step: 10}
roles:
  owner: {raw: true}
  analyst: {}
  support:
    tables:
      people:
        age: {mask: keep}
"""


def test_ingest_refuses_a_policy_that_does_not_fit_and_writes_nothing(tmp_path):
    (tmp_path / "people.csv").write_text("email,age\na@b.org,3\n")
    state = StateStore.open(str(tmp_path / "state.db"))
    for policy, table in ((POLICY.replace("partial_email", "nosuchrule"), None), (POLICY, "other"),
                          ("secret_env: HOME\n" + POLICY, None)):
        with pytest.raises(JaneDoeInputError):
            ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="p",
                           table_name=table, policy_text=policy, created_by="root")
    assert state.datasets.list() == []
    assert [name for name in (tmp_path / "state-data").iterdir()] == []
    state.close()


NOISY_POLICY = """\
version: 1
tables:
  pay:
    columns:
      email:  {mask: partial_email}
      salary: {mask: noise, ratio: 0.5}
roles:
  owner: {raw: true}
  analyst: {}
"""


def test_a_dataset_policy_naming_another_server_variable_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_API_STATE", "postgresql://janedoe:pw@db/state")
    (tmp_path / "people.csv").write_text("email,age\na@b.org,3\n")
    state = StateStore.open(str(tmp_path / "state.db"))
    with pytest.raises(JaneDoeInputError, match="secret_env"):
        ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="p",
                       table_name=None, policy_text="secret_env: JANEDOE_API_STATE\n" + POLICY, created_by="root")
    state.close()


@pytest.mark.parametrize("fresh_at", ["default", "role"])
def test_a_dataset_policy_with_fresh_draws_is_refused(tmp_path, monkeypatch, fresh_at):
    """Fresh draws differ per export, so averaging exports would undo them: a registered dataset may not use them."""
    monkeypatch.setenv("JANEDOE_SECRET", "server-key-for-tests-0123456789")
    (tmp_path / "pay.csv").write_text("email,salary\na@b.org,3000\n")
    fresh = "{mask: noise, ratio: 0.5, fresh: true}"
    policy = NOISY_POLICY.replace("{mask: noise, ratio: 0.5}", fresh) if fresh_at == "default" else (
        NOISY_POLICY.replace("analyst: {}", f"analyst: {{tables: {{pay: {{salary: {fresh}}}}}}}"))
    state = StateStore.open(str(tmp_path / "state.db"))
    with pytest.raises(JaneDoeInputError, match="fresh"):
        ingest_dataset(state, upload_path=str(tmp_path / "pay.csv"), shown_name="pay.csv", name="p",
                       table_name=None, policy_text=policy, created_by="root")
    assert state.datasets.list() == []
    state.close()
