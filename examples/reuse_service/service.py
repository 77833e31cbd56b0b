"""A small third-party service built on janedoe's components (their interfaces only), over HTTP with FastAPI.

    POST /v1/mask          a CSV batch of ticket rows in, the same rows masked by policy.yaml out (CSV)
    GET  /v1/count?by=plan a differentially private count of the service's ticket log, charged to the caller's budget

Run it:  TICKETS_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))') \\
         python examples/reuse_service/service.py --data tickets.csv --ledger budgets.db --port 8080
"""

import argparse
import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi import FastAPI, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from janedoe.dp_noise import run_query
from janedoe.errors import BudgetExceededError, JaneDoeInputError
from janedoe.ledger import Ledger
from janedoe.masking import build_table_masker, require_secret
from janedoe.policy import load_policy
from janedoe.tabular import read_table

HERE = Path(__file__).resolve().parent
TABLE = "tickets"
MAX_BATCH_BYTES = 1 << 20  # one request masks at most 1 MiB of CSV: bigger batches are split by the caller


def create_app(data_path: Path, ledger_location: str, policy_path: Path = HERE / "policy.yaml") -> FastAPI:
    """The service over one ticket log (`data_path`, read once) and one budget ledger (SQLite file or URL)."""
    policy = load_policy(policy_path)
    table_policy = policy.tables[TABLE]
    secret = require_secret(policy, TABLE)  # refused at start-up, not on the first request, when it is missing
    tickets = read_table(data_path)
    ledger = Ledger.open(ledger_location)
    app = FastAPI(title="ticket desk (janedoe example)")

    @app.exception_handler(JaneDoeInputError)
    async def input_error(_request: Request, error: JaneDoeInputError) -> JSONResponse:
        # janedoe's messages are one line and never quote a data value or the secret: safe to send back
        status = 403 if isinstance(error, BudgetExceededError) else 400
        return JSONResponse({"error": str(error), "code": error.code}, status_code=status)

    def masked_csv(body: bytes | bytearray) -> bytes:
        with tempfile.NamedTemporaryFile(suffix=".csv") as upload:  # janedoe's reader: bounded, one-line errors
            upload.write(body)
            upload.flush()
            batch = read_table(upload.name)
        masker = build_table_masker(policy, TABLE, batch.schema, secret=secret)  # refuses unknown columns first
        masked = pa.Table.from_batches([masker.mask_batch(b) for b in batch.to_batches()], masker.output_schema)
        out = io.BytesIO()
        pacsv.write_csv(masked, out)
        return out.getvalue()

    @app.post("/v1/mask")
    async def mask(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():  # read up to the cap, never a whole oversized upload
            body += chunk
            if len(body) > MAX_BATCH_BYTES:
                raise JaneDoeInputError(f"a batch is at most {MAX_BATCH_BYTES} bytes", where="body")
        return Response(await run_in_threadpool(masked_csv, body), media_type="text/csv")

    @app.get("/v1/count")
    def count(
        epsilon: float = Query(..., description="what this answer costs the caller's budget"),
        by: str | None = Query(None, description="a count per value of this column (public categories only)"),
        analyst: str = Header(..., alias="X-Analyst", description="whose budget pays (authenticate it in front)"),
    ) -> dict:
        if not ledger.budgets(TABLE, analyst):
            ledger.set_budget(TABLE, analyst, epsilon=table_policy.dp.epsilon)

        def charge(cost, mechanism):  # called once, before any noise is drawn: a refusal releases nothing
            ledger.spend(TABLE, analyst, cost, query=f"count by {by}", mechanism=mechanism)

        answer = run_query(tickets, "count", epsilon=epsilon, section=table_policy.dp,
                           columns_bounds=table_policy.columns, by=by, charge=charge)
        return {"answer": answer.to_dict(), "remaining_epsilon": ledger.budget(TABLE, analyst).remaining}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "tickets.csv", help="the ticket log (CSV)")
    parser.add_argument("--ledger", default="budgets.db", help="budget ledger: a SQLite file or a database URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    options = parser.parse_args()
    uvicorn.run(create_app(options.data, options.ledger), host=options.host, port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
