"""Stage 1 of the two-stage analysis: a dataset's DP synthetic package, and the broker that answers a stage-2 job's
DP queries on the real data from outside its sandbox.

    package = publish_stage_one(record, privacy, package_dir=data_dir / "stage-one" / record.dataset_id)
    with QueryBroker(socket_dir / "broker.sock", broker_answerer(record, privacy, author)) as broker:
        ...  # run the job with the socket bound in; then release broker.answered
"""

from janedoe.stage_one.answerer import broker_answerer
from janedoe.stage_one.broker import QueryBroker
from janedoe.stage_one.package import PACKAGE_FILE, STAGE_ONE_ACCOUNT, publish_stage_one, read_package
from janedoe.stage_one.public_policy import public_policy

__all__ = [
    "publish_stage_one",
    "read_package",
    "STAGE_ONE_ACCOUNT",
    "PACKAGE_FILE",
    "QueryBroker",
    "broker_answerer",
    "public_policy",
]
