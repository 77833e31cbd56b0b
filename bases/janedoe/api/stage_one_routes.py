"""A dataset's stage-1 package (DP synthetic data, schema, public policy): publish (admin), list and download it.

Any role the dataset's policy names may download it: it was made with differential privacy, paid once from the
dataset's own `stage-one` ledger account, so reading it again costs nothing and reveals nothing more.
"""

import hashlib
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from janedoe.api.auth import Admin, Caller
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from janedoe.errors import NotFoundError
from janedoe.stage_one import PACKAGE_FILE, publish_stage_one, read_package
from pydantic import BaseModel, Field

router = APIRouter(prefix="/v1/datasets", tags=["stage-1 packages"])
_CHUNK = 1 << 20


class PublishRequest(BaseModel):
    rows: int | None = Field(default=None, ge=1, le=10_000_000, description="synthetic rows (default: as the data)")
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1, description="sampling only, never the noise")


class PackageFileOut(BaseModel):
    name: str
    sha256: str
    size: int


class PackageOut(BaseModel):
    dataset_id: str
    table: str
    method: str
    epsilon: float
    delta: float
    rows: int
    created_at: str
    files: list[PackageFileOut]


def _out(package_dir: Path) -> PackageOut:
    manifest = read_package(package_dir)
    files = [PackageFileOut(name=name, sha256=digest, size=(package_dir / name).stat().st_size)
             for name, digest in sorted(manifest["files"].items())]
    described = (package_dir / PACKAGE_FILE).read_bytes()  # holds the others' digests; its own is computed here
    files.append(PackageFileOut(name=PACKAGE_FILE, sha256=hashlib.sha256(described).hexdigest(), size=len(described)))
    return PackageOut(
        dataset_id=manifest["dataset_id"], table=manifest["table"], method=manifest["method"],
        epsilon=manifest["epsilon"], delta=manifest["delta"], rows=manifest["rows"],
        created_at=manifest["created_at"], files=files,
    )


@router.post("/{dataset_id}/stage-one", response_model=PackageOut, status_code=201,
             responses={200: {"model": PackageOut, "description": "already published: the existing package"}})
async def publish(dataset_id: str, admin: Admin, svc: Svc, response: Response,
                  body: Annotated[PublishRequest | None, Body()] = None):
    """Makes the package once (charged to the dataset's `stage-one` account); again: the same package, 200."""
    body = body or PublishRequest()
    record = await run_in_threadpool(svc.state.datasets.get, dataset_id)
    package_dir = svc.stage_one_dir(dataset_id)
    existed = (package_dir / PACKAGE_FILE).is_file()
    await call_with_timeout(svc.settings.request_timeout_seconds, publish_stage_one, record, svc.privacy,
                            package_dir=package_dir, rows=body.rows, seed=body.seed)
    if existed:
        response.status_code = 200
    else:
        await run_in_threadpool(svc.state.audit.record, analyst=admin.name, role=admin.role,
                                action="stage_one.publish", dataset_id=dataset_id, detail=f"rows={body.rows}")
    return await run_in_threadpool(_out, package_dir)


@router.get("/{dataset_id}/stage-one/files", response_model=PackageOut)
def package_files(dataset_id: str, caller: Caller, svc: Svc):
    record = svc.state.datasets.get(dataset_id)
    svc.privacy.check_role(record, caller)
    return _out(svc.stage_one_dir(dataset_id))


@router.get("/{dataset_id}/stage-one", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "the package's files as a zip"}})
def download_package(dataset_id: str, caller: Caller, svc: Svc):
    record = svc.state.datasets.get(dataset_id)
    svc.privacy.check_role(record, caller)
    package_dir = svc.stage_one_dir(dataset_id)
    manifest = read_package(package_dir)  # 404 before publication
    archive = _zip_package(package_dir, [*sorted(manifest["files"]), PACKAGE_FILE])
    svc.state.audit.record(analyst=caller.name, role=caller.role, action="stage_one.download", dataset_id=dataset_id)
    filename = f"stage-one-{re.sub(r'[^A-Za-z0-9_.-]', '_', record.name)}.zip"
    return StreamingResponse(_chunks(archive), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _zip_package(package_dir: Path, names: list[str]):
    """The package's listed files, zipped into an anonymous temp file (gone when closed)."""
    handle = tempfile.TemporaryFile()
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                path = package_dir / name
                if not path.is_file():
                    raise NotFoundError("the stage-1 package is incomplete", where=f"stage-one/{name}")
                # Parquet is compressed already: stored as is.
                archive.write(path, name, compress_type=zipfile.ZIP_STORED if name.endswith(".parquet") else None)
        handle.seek(0)
        return handle
    except BaseException:
        handle.close()
        raise


def _chunks(handle):
    try:
        while chunk := handle.read(_CHUNK):
            yield chunk
    finally:
        handle.close()

