"""Saving an uploaded file to a private temp dir and keeping server paths out of error messages."""

import os
import shutil
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from janedoe.api.errors import ApiError
from janedoe.dataset_masking import renamed_error
from janedoe.errors import JaneDoeInputError
from janedoe.service_store import StateStore, UploadDir

_ESCAPE = "CSV: prefix text cells starting with = + - @ tab or CR with ' (OWASP CSV injection)"
_ENCODING = "the file's text encoding if not UTF-8 (CSV, JSON Lines), e.g. latin-1"

# The options every route that reads an upload or writes CSV takes, described once.
EncodingForm = Annotated[str | None, Form(max_length=64, description=_ENCODING)]
FormulaEscapeForm = Annotated[bool, Form(description=_ESCAPE)]
FormulaEscapeQuery = Annotated[bool, Query(description=_ESCAPE)]


@asynccontextmanager
async def saved_upload(state: StateStore, upload: UploadFile, *, keep: bool = False):
    """Yields (upload_dir, path, shown_name); the dir goes away afterwards unless `keep` (the caller then owns it)."""
    shown_name = os.path.basename(upload.filename or "upload")
    uploads = UploadDir(state)
    try:
        path = uploads.file(shown_name)

        def copy() -> None:
            upload.file.seek(0)
            with open(path, "wb") as target:
                shutil.copyfileobj(upload.file, target, length=1 << 20)

        await run_in_threadpool(copy)
        try:
            yield uploads, path, shown_name
        except JaneDoeInputError as error:
            raise renamed_error(error, {path: shown_name, uploads.path: "upload"}) from None
    except BaseException:
        uploads.remove()
        raise
    if not keep:
        uploads.remove()


async def read_policy_upload(upload: UploadFile) -> str:
    data = await upload.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_input", "the policy must be UTF-8 text (YAML)") from None
