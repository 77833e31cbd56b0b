"""Masking a caller's uploaded file with the caller's policy, for the stateless `/v1/mask` endpoint."""

import os

from janedoe.errors import JaneDoeInputError
from janedoe.masking import MaskReport, mask_file
from janedoe.policy import parse_policy


def parse_uploaded_policy(policy_text: str):
    """A policy sent over HTTP may only take its secret from a JANEDOE_* variable of the server.

    Otherwise a caller could point `secret_env` at any server variable (a database password, say) and get HMACs keyed
    with it back.
    """
    policy = parse_policy(policy_text, "policy")
    if not policy.secret_env.startswith("JANEDOE_"):
        raise JaneDoeInputError("over the API, secret_env must name a JANEDOE_* variable", where="policy: secret_env")
    return policy


def mask_upload(
    policy_text: str, *, upload_path: str, shown_name: str, output_path: str, table: str | None
) -> MaskReport:
    """Masks the upload into output_path; errors name `shown_name`, never the server's temp paths."""
    try:
        policy = parse_uploaded_policy(policy_text)
        return mask_file(policy, upload_path, output_path, table=table or _stem(shown_name))
    except JaneDoeInputError as error:
        raise renamed_error(error, {upload_path: shown_name, output_path: "output"}) from None


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
