"""`janedoe job`: write a job folder, run it on stage-1 data here, submit it to the API, follow it, get its outputs.

`init` and `run` work locally (`run` in the same sandbox, paths and environment as stage 2); `submit`, `status` and
`outputs` talk to the API (--api-url or JANEDOE_API_URL; the key from JANEDOE_API_KEY or --key-file).
"""

from pathlib import Path
from typing import Annotated

import typer
from janedoe.cli.api_client import DEFAULT_API_URL, ApiUrlOption, KeyFileOption, quoted
from janedoe.cli.rendering import stdout
from janedoe.errors import JaneDoeInputError

job_app = typer.Typer(no_args_is_help=True,
                      help="Two-stage analysis jobs: init, run on stage-1 data, submit, status, outputs.")


@job_app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The job folder to create (or fill).")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's id (or name) on the server.")],
    mode: Annotated[str, typer.Option("--mode", help="dp: DP queries released at once; review: checked files.")],
    table: Annotated[str | None, typer.Option("--table", help="The table's name (default: the dataset).")] = None,
) -> None:
    """Write a starter janedoe-job.yaml and analysis.py that run unchanged in stage 1 and stage 2."""
    from janedoe.analysis_jobs import MANIFEST_NAME, init_job_folder

    init_job_folder(directory, dataset=dataset, mode=mode, table=table)
    stdout().print(f"wrote {directory / MANIFEST_NAME} and {directory / 'analysis.py'} ({mode} mode)", markup=False)


@job_app.command("run")
def run(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The job folder.")],
    package: Annotated[Path, typer.Option("--package", help="The stage-1 package: its folder or its .zip.")],
    output: Annotated[Path | None, typer.Option("--output", help="Where the job writes (default: DIR-output).")]
    = None,
) -> None:
    """Stage 1: run the job on the stage-1 (synthetic) data, in the sandbox stage 2 uses, and check its outputs."""
    import tempfile

    from janedoe.analysis_jobs import load_manifest, run_local
    from janedoe.sandbox import output_files, sandbox_available

    problem = sandbox_available()
    if problem is not None:
        raise JaneDoeInputError(f"cannot run jobs here: {problem}", where="sandbox")
    manifest = load_manifest(directory)
    output = output if output is not None else directory.parent / f"{directory.resolve().name}-output"
    log_path = output.with_name(output.name + ".log")
    _fresh_output(output, log_path)
    with tempfile.TemporaryDirectory(prefix="janedoe-stage-one-") as scratch:
        package_dir = _package_folder(package, Path(scratch))
        outcome = run_local(directory, package_dir, output, log_path=log_path)
        stdout().print(f"{outcome.state} in {outcome.seconds:.1f} s (exit code {outcome.exit_code}); "
                       f"log: {outcome.log_path}", markup=False)
        for path in output_files(output):
            stdout().print(f"  wrote {path.relative_to(output)} ({path.stat().st_size} bytes)", markup=False)
        if manifest.mode == "review" and outcome.state == "succeeded":
            _preview_checks(output, manifest, Path(scratch) / "checked")
    if outcome.state != "succeeded":
        raise typer.Exit(1)


def _fresh_output(output: Path, log_path: Path) -> None:
    """An empty output folder; one left by an earlier `job run` (its log beside it) is emptied, anything else kept."""
    import shutil

    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        if not (output.is_dir() and log_path.is_file()):
            raise JaneDoeInputError("exists and is not an earlier run's output; remove it or pick another --output",
                                    where=str(output))
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)


def _package_folder(package: Path, scratch: Path) -> Path:
    if package.is_dir():
        return package
    import zipfile

    target = scratch / "package"
    target.mkdir()
    try:
        with zipfile.ZipFile(package) as archive:
            for member in archive.infolist():
                name = member.filename
                if member.is_dir() or "/" in name or "\\" in name or name in ("", ".", ".."):
                    raise JaneDoeInputError("a stage-1 package zip holds only plain file names", where=str(package))
                (target / name).write_bytes(archive.read(member))
    except (OSError, zipfile.BadZipFile):
        raise JaneDoeInputError("not a stage-1 package folder or zip", where=str(package)) from None
    return target


def _preview_checks(output: Path, manifest, checked_dir: Path) -> None:
    from janedoe.output_checks import OutputRules, check_outputs

    checked_dir.mkdir()
    results = check_outputs(output, manifest.outputs, OutputRules(), identifiers=None, checked_dir=checked_dir)
    stdout().print("automatic checks (here without the real data's identifiers; stage 2 adds them):", markup=False)
    for result in results:
        stdout().print(f"  {result.path}: {'passes' if result.passed else 'BLOCKED'}", markup=False)
        for finding in result.findings:
            stdout().print(f"    {finding.check}: {finding.message}", markup=False)


@job_app.command("package")
def package(
    dataset_id: Annotated[str, typer.Argument(metavar="DATASET", help="The dataset's id.")],
    output: Annotated[Path | None, typer.Option("--output", help="The zip to write (default: DATASET-stage-one.zip).")]
    = None,
    publish: Annotated[bool, typer.Option("--publish", help="Make the package first if needed (admin keys).")]
    = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    key_file: KeyFileOption = None,
) -> None:
    """Download a dataset's stage-1 package (DP synthetic data, schema, public policy) for `job run --package`."""
    import hashlib
    import io
    import json
    import zipfile

    from janedoe.cli.api_client import ApiClient, ServerRefused
    from janedoe.cli.downloads import save_verified

    client = ApiClient.from_options(api_url, key_file)
    if publish:
        client.post_json(f"/v1/datasets/{quoted(dataset_id)}/stage-one")
    data = client.get(f"/v1/datasets/{quoted(dataset_id)}/stage-one")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            described = json.loads(archive.read("package.json"))
            for name, digest in described["files"].items():
                if hashlib.sha256(archive.read(name)).hexdigest() != digest:
                    raise ServerRefused(f"{name}: the package's file does not match its sha256; nothing written")
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise ServerRefused("the server sent no valid stage-1 package") from None
    output = output if output is not None else Path(f"{dataset_id}-stage-one.zip")
    save_verified(output.parent, output.name, data, None)
    stdout().print(f"wrote {output}: {described['rows']} synthetic rows of {described['table']} "
                   f"({described['method']}, epsilon={described['epsilon']:g})", markup=False)


@job_app.command("submit")
def submit(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The job folder.")],
    dataset_id: Annotated[str | None, typer.Option("--dataset-id", help="The dataset (default: the manifest's).")]
    = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    key_file: KeyFileOption = None,
) -> None:
    """Check the job folder here, then send it to the API, which queues it for stage 2."""
    from janedoe.analysis_jobs import load_manifest
    from janedoe.cli.api_client import ApiClient

    manifest = load_manifest(directory)
    data = _zip_folder(directory)
    client = ApiClient.from_options(api_url, key_file)
    dataset_id = dataset_id or _dataset_id(client, manifest.dataset)
    job = client.post_form("/v1/analysis-jobs", {"dataset_id": dataset_id},
                           {"folder": (f"{directory.resolve().name}.zip", data, "application/zip")})
    stdout().print(f"job {job['job_id']}: {job['state']} ({job['mode']} mode, dataset {job['dataset_id']})",
                   markup=False)


def _dataset_id(client, named: str) -> str:
    matches = {entry["dataset_id"] for entry in client.get_json("/v1/datasets") if named in (entry["dataset_id"],
                                                                                               entry["name"])}
    if len(matches) != 1:
        problem = "no dataset on the server has this id or name" if not matches else "several datasets have this name"
        raise JaneDoeInputError(f"{problem}; pass --dataset-id", where="janedoe-job.yaml: dataset")
    return matches.pop()


def _zip_folder(directory: Path) -> bytes:
    """The folder's regular files as a zip; links and special files refused (the server refuses them too)."""
    import io
    import os
    import stat
    import zipfile

    from janedoe.analysis_jobs import MAX_FOLDER_BYTES

    buffer, total = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder, dirs, files in os.walk(directory):
            for name in sorted(files):
                path = Path(folder) / name
                relative = path.relative_to(directory).as_posix()
                mode = os.lstat(path).st_mode
                if not stat.S_ISREG(mode):
                    raise JaneDoeInputError("only regular files (no links) may be in a job folder",
                                            where=f"{directory}: {relative}")
                total += path.stat().st_size
                if total > MAX_FOLDER_BYTES:
                    raise JaneDoeInputError(f"the job folder is larger than {MAX_FOLDER_BYTES >> 20} MiB",
                                            where=str(directory))
                archive.write(path, relative)
            for name in dirs:
                if (Path(folder) / name).is_symlink():
                    raise JaneDoeInputError("only regular files (no links) may be in a job folder",
                                            where=f"{directory}: {(Path(folder) / name).relative_to(directory)}")
    return buffer.getvalue()


@job_app.command("status")
def status(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job's id.")],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    key_file: KeyFileOption = None,
) -> None:
    """The job's state, the limit that ended it, approvals and each output's check result."""
    from janedoe.cli.api_client import ApiClient

    job = ApiClient.from_options(api_url, key_file).get_json(f"/v1/analysis-jobs/{quoted(job_id)}")
    print_job(job)


def print_job(job: dict) -> None:
    out = stdout()
    out.print(f"job {job['job_id']}: {job['state']} ({job['mode']} mode, dataset {job['dataset_id']}, "
              f"by {job['author']})", markup=False)
    for label, key in (("limit hit", "limit"), ("reason", "reason"), ("exit code", "exit_code"),
                       ("seconds", "seconds"), ("approvals", "approvals")):
        if job.get(key) is not None:
            out.print(f"  {label}: {job[key]}", markup=False)
    if job.get("approved_by"):
        out.print(f"  approved by: {', '.join(job['approved_by'])}", markup=False)
    for output in job.get("outputs") or []:
        verdict = "released" if output["released"] else "passes" if output["passed"] else "BLOCKED"
        out.print(f"  {output['path']} ({output['kind']}): {verdict}", markup=False)
        for finding in output.get("findings") or []:
            blocking = " [blocking]" if finding["blocking"] else ""
            out.print(f"    {finding['check']}{blocking}: {finding['message']}", markup=False)


@job_app.command("outputs")
def outputs(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job's id.")],
    download: Annotated[Path | None, typer.Option("--download", help="Save the released files in this folder.")]
    = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    key_file: KeyFileOption = None,
) -> None:
    """The job's released outputs; with --download, saved after checking each one's sha256."""
    from janedoe.cli.api_client import ApiClient
    from janedoe.cli.downloads import save_verified

    client = ApiClient.from_options(api_url, key_file)
    released = client.get_json(f"/v1/analysis-jobs/{quoted(job_id)}/outputs")
    if not released:
        stdout().print(f"job {job_id}: nothing released (yet)", markup=False)
    for entry in released:
        line = f"{entry['name']} ({entry['kind']}, {entry['size']} bytes, sha256 {entry['sha256']})"
        if download is not None:
            data = client.get(f"/v1/analysis-jobs/{quoted(job_id)}/outputs/{quoted(entry['name'], keep_slashes=True)}")
            line += f" -> {save_verified(download, entry['name'], data, entry['sha256'])}"
        stdout().print(line, markup=False)
