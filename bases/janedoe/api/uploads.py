"""Saving an uploaded file to a private temp dir and keeping server paths out of error messages."""

import os
import shutil
from contextlib import asynccontextmanager

from fastapi import UploadFile
from fastapi.concurrency import run_in_threadpool
from janedoe.api.errors import ApiError
from janedoe.errors import JaneDoeInputError
from janedoe.service_state import StateStore, UploadDir, renamed_error


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
