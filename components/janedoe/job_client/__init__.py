"""What code inside an analysis job imports: DP queries through the broker, and the job's data and output paths.

Standard library only at import time (no numpy, no pyarrow), so it loads fast inside the sandbox:

    from janedoe.job_client import data_path, output_path, query
    answer = query("mean(age)", by="region", epsilon=0.1)

In stage 2 dp mode (JANEDOE_BROKER_SOCKET set) each query is answered by the broker outside the sandbox, with noise,
on the real data, charged to the author's budget. Without a broker (stage 1, and review mode) the same call computes
the exact answer on the table in JANEDOE_DATA_DIR, with no noise and no budget: in stage 1 that table is DP synthetic
data, so stage-1 answers are exact answers about synthetic people, not about the real data.
"""

from janedoe.job_client.client import BrokerClient, query
from janedoe.job_client.paths import data_path, output_path
from janedoe.job_client.protocol import MAX_REQUEST_BYTES, QueryRefused, check_epsilon, encode_line, parse_request

__all__ = [
    "query",
    "data_path",
    "output_path",
    "QueryRefused",
    "BrokerClient",
    "parse_request",
    "encode_line",
    "check_epsilon",
    "MAX_REQUEST_BYTES",
]
