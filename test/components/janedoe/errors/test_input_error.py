import pytest
from janedoe.errors import BudgetExceededError, JaneDoeInputError, NotFoundError


def test_message_names_where_and_keeps_one_line():
    error = JaneDoeInputError("unknown rule 'foo'", where="policy.yaml:7: tables.t.columns.c.mask")
    assert str(error) == "policy.yaml:7: tables.t.columns.c.mask: unknown rule 'foo'"
    assert "\n" not in str(error)
    assert error.code == "bad_input"


@pytest.mark.parametrize("cls,code", [(BudgetExceededError, "budget_exceeded"), (NotFoundError, "not_found")])
def test_subclasses_are_input_errors_with_stable_codes(cls, code):
    error = cls("nope")
    assert isinstance(error, JaneDoeInputError)
    assert error.code == code
