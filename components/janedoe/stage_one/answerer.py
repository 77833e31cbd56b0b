"""The broker's answer callable for one job: DP queries on the dataset's real data, charged to the job's author."""

from collections.abc import Callable


def broker_answerer(record, privacy, principal) -> Callable[[str, str | None, float], dict]:
    """answer(expression, by, epsilon) -> DatasetPrivacy.query's answer dict, as `principal` (the job's author):
    the author's budget on this dataset is charged before any noise is drawn; a refusal charges nothing.

    The role is checked now, so a job whose author may not query this dataset fails before it starts.
    """
    privacy.check_role(record, principal)

    def answer(expression: str, by: str | None, epsilon: float) -> dict:
        return privacy.query(record, principal, expression, epsilon=epsilon, by=by)[0]

    return answer
