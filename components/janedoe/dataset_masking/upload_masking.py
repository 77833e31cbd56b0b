"""Masking a caller's uploaded file with the caller's policy, for the stateless `/v1/mask` endpoint.

The key is the caller's own or a fresh random one per request, never the server's: an uploaded policy's `secret_env`
is ignored. With the server's key, any caller could mask candidate values and match them against the hashes and
pseudonyms that registered datasets show (and other server variables would become password-guessing oracles).
"""

import os
import secrets

from janedoe.dataset_masking.formula_escape import escape_formulas
from janedoe.errors import JaneDoeInputError
from janedoe.masking import MaskReport, mask_file
from janedoe.policy import parse_policy
from janedoe.tabular import AtomicTableWriter, iter_batches, read_schema

MIN_SECRET_BYTES = 16
_BATCH_ROWS = 65_536


def mask_upload(
    policy_text: str, *, upload_path: str, shown_name: str, output_path: str, table: str | None,
    secret: bytes | None = None, csv_formula_escape: bool = False, encoding: str | None = None,
) -> MaskReport:
    """Masks the upload into output_path; errors name `shown_name`, never the server's temp paths.

    `secret` keys hash, pseudonymize and the random rules (the same secret gives the same output on every call); None
    draws a random key for this request only. `csv_formula_escape` applies OWASP's escape to a CSV output. `encoding`
    is the upload's text encoding (default: the policy table's, else UTF-8).
    """
    if secret is not None and len(secret) < MIN_SECRET_BYTES:
        raise JaneDoeInputError(f"the secret must be at least {MIN_SECRET_BYTES} bytes", where="secret")
    key = secret if secret is not None else secrets.token_bytes(32)
    escape = csv_formula_escape and output_path.lower().endswith(".csv")
    masked_path = f"{os.path.splitext(output_path)[0]}.unescaped.parquet" if escape else output_path
    try:
        policy = parse_policy(policy_text, "policy")
        report = mask_file(
            policy, upload_path, masked_path, table=table or _stem(shown_name), secret=key, encoding=encoding
        )
    except JaneDoeInputError as error:
        raise renamed_error(error, {upload_path: shown_name, masked_path: "output", output_path: "output"}) from None
    if escape:
        _write_formula_safe_csv(masked_path, output_path)
        os.remove(masked_path)
        report.output_path = output_path
    return report


def _write_formula_safe_csv(source: str, output_path: str) -> None:
    with AtomicTableWriter(output_path, read_schema(source)) as writer:
        for batch in iter_batches(source, batch_size=_BATCH_ROWS):
            writer.write_batch(escape_formulas(batch))


def _stem(name: str) -> str:
    return os.path.splitext(os.path.basename(name))[0]


def renamed_error(error: JaneDoeInputError, paths: dict[str, str]) -> JaneDoeInputError:
    """The same error with server paths replaced by what the caller knows them as."""
    message, where = error.detail, error.where
    for server_path, shown in paths.items():
        message = message.replace(server_path, shown)
        where = where.replace(server_path, shown) if where else where
    if (message, where) == (error.detail, error.where):
        return error
    return JaneDoeInputError(message, where=where, code=error.code)
