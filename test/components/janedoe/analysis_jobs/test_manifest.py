"""janedoe-job.yaml: every mistake is refused with the field (and line) it is in; job folders are stored as given."""

import io
import os
import stat
import zipfile

import pytest
from janedoe.analysis_jobs import (
    MANIFEST_NAME,
    folder_sha256,
    init_job_folder,
    load_manifest,
    parse_manifest,
    store_job_folder,
)
from janedoe.errors import JaneDoeInputError
from janedoe.sandbox import ResourceLimits

GOOD = """\
dataset: people
entry: analysis.py
mode: review
limits:
  cpu_seconds: 30
outputs:
  - path: tables/counts.csv
    kind: table
    count_columns: [n]
"""


def _folder(tmp_path, manifest: str, files=("analysis.py",)):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text(manifest)
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("print('hi')\n")
    return folder


def test_a_good_manifest_parses_with_defaults_under_the_caps(tmp_path):
    manifest = load_manifest(_folder(tmp_path, GOOD), caps=ResourceLimits(wall_seconds=60))
    assert (manifest.dataset, manifest.entry, manifest.mode) == ("people", "analysis.py", "review")
    assert manifest.limits.cpu_seconds == 30
    assert manifest.limits.wall_seconds == 60  # the default 600 is above the admin's cap: capped
    assert manifest.outputs[0].path == "tables/counts.csv" and manifest.outputs[0].count_columns == ("n",)


@pytest.mark.parametrize(("text", "where"), [
    (GOOD + "colour: blue\n", "janedoe-job.yaml:10: colour"),
    (GOOD + "requirements: [pandas]\n", "janedoe-job.yaml:10: requirements"),
    (GOOD.replace("mode: review", "mode: turbo"), "janedoe-job.yaml:3: mode"),
    (GOOD.replace("cpu_seconds: 30", "cpu_seconds: '30'"), "janedoe-job.yaml:5: limits.cpu_seconds"),
    (GOOD.replace("cpu_seconds: 30", "cpu_seconds: -1"), "janedoe-job.yaml:5: limits.cpu_seconds"),
    (GOOD.replace("cpu_seconds: 30", "cpu_seconds: 999999"), "janedoe-job.yaml:5: limits.cpu_seconds"),
    (GOOD.replace("cpu_seconds: 30", "gpus: 1"), "janedoe-job.yaml:5: limits.gpus"),
    (GOOD.replace("entry: analysis.py", "entry: ../x.py"), "janedoe-job.yaml:2: entry"),
    (GOOD.replace("entry: analysis.py", "entry: /etc/x.py"), "janedoe-job.yaml:2: entry"),
    (GOOD.replace("entry: analysis.py", "entry: run.sh"), "janedoe-job.yaml:2: entry"),
    (GOOD.replace("path: tables/counts.csv", "path: ../../etc/passwd"), "janedoe-job.yaml:7: outputs[0].path"),
    (GOOD.replace("path: tables/counts.csv", "path: /output/x.csv"), "janedoe-job.yaml:7: outputs[0].path"),
    (GOOD.replace("kind: table", "kind: video"), "janedoe-job.yaml:8: outputs[0].kind"),
    (GOOD.replace("count_columns: [n]", "count_columns: n"), "janedoe-job.yaml:9: outputs[0].count_columns"),
    (GOOD.replace("    kind: table", "    kind: table\n    format: csv"), "janedoe-job.yaml:9: outputs[0].format"),
    (GOOD.replace("dataset: people", "dataset: [people]"), "janedoe-job.yaml:1: dataset"),
    (GOOD.replace("dataset: people\n", ""), "janedoe-job.yaml: dataset"),
    ("dataset: people\nentry: a.py\nmode: dp\noutputs:\n  - {path: a.csv, kind: table}\n",
     "janedoe-job.yaml:5: outputs"),
    ("dataset: &d people\nentry: a.py\nmode: dp\n", "janedoe-job.yaml:1"),
    ("dataset: people\n  entry: [\n", "janedoe-job.yaml:2"),
])
def test_each_mistake_names_its_field_and_line(text, where):
    with pytest.raises(JaneDoeInputError) as error:
        parse_manifest(text)
    assert error.value.where == where


def test_package_installs_are_refused_with_the_reason():
    with pytest.raises(JaneDoeInputError, match="pinned"):
        parse_manifest(GOOD + "install: pip install requests\n")


def test_the_entry_must_be_a_regular_file_inside_the_folder(tmp_path):
    folder = _folder(tmp_path, GOOD, files=())
    with pytest.raises(JaneDoeInputError, match="no such file") as error:
        load_manifest(folder)
    assert error.value.where == "janedoe-job.yaml: entry"
    outside = tmp_path / "outside.py"
    outside.write_text("print('outside')\n")
    os.symlink(outside, folder / "analysis.py")
    with pytest.raises(JaneDoeInputError, match="symlink"):
        load_manifest(folder)


def test_the_stored_copy_is_read_only_content_addressed_and_shared(tmp_path):
    folder = _folder(tmp_path, GOOD, files=("analysis.py", "lib/helpers.py"))
    digest, stored = store_job_folder(folder, tmp_path / "store")
    assert digest == folder_sha256(folder) and stored.name == digest
    assert stat.S_IMODE(os.stat(stored / "analysis.py").st_mode) == 0o444
    assert stat.S_IMODE(os.stat(stored / "lib").st_mode) == 0o555
    (folder / "analysis.py").write_text("print('changed')\n")  # the submitted copy does not follow the source
    assert (stored / "analysis.py").read_text() == "print('hi')\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(MANIFEST_NAME, GOOD)
        archive.writestr("analysis.py", "print('hi')\n")
        archive.writestr("lib/helpers.py", "print('hi')\n")
    assert store_job_folder(buffer.getvalue(), tmp_path / "store") == (digest, stored)


def test_links_special_files_escapes_and_oversized_folders_are_refused(tmp_path):
    folder = _folder(tmp_path, GOOD)
    os.symlink("/etc/passwd", folder / "passwd")
    with pytest.raises(JaneDoeInputError, match="symlinks"):
        store_job_folder(folder, tmp_path / "store")
    os.remove(folder / "passwd")
    os.mkfifo(folder / "pipe")
    with pytest.raises(JaneDoeInputError, match="regular files"):
        store_job_folder(folder, tmp_path / "store")
    os.remove(folder / "pipe")
    (folder / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(JaneDoeInputError, match="larger"):
        store_job_folder(folder, tmp_path / "store", max_bytes=4096)
    with pytest.raises(JaneDoeInputError, match="more than 2 files"):
        store_job_folder(folder, tmp_path / "store", max_files=2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.py", "print('x')\n")
    with pytest.raises(JaneDoeInputError, match="leaves the folder"):
        store_job_folder(buffer.getvalue(), tmp_path / "store")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("analysis.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(JaneDoeInputError, match="regular files"):
        store_job_folder(buffer.getvalue(), tmp_path / "store")
    assert [entry.name for entry in (tmp_path / "store").iterdir()] == []  # nothing half-stored


def test_init_writes_a_folder_whose_manifest_loads(tmp_path):
    for mode in ("dp", "review"):
        init_job_folder(tmp_path / mode, dataset="people", mode=mode)
        assert load_manifest(tmp_path / mode).mode == mode
    with pytest.raises(JaneDoeInputError, match="already exists"):
        init_job_folder(tmp_path / "dp", dataset="people", mode="dp")
