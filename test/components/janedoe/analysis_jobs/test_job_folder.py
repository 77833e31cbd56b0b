"""Job folder caps on folders: given as zip entries, implied by a file's path, or in a submitted tree."""

import io
import struct
import zipfile

import pytest
from janedoe.analysis_jobs import MAX_FOLDER_DIRS, MAX_FOLDER_FILES, store_job_folder
from janedoe.errors import JaneDoeInputError


def zipped(entries) -> bytes:
    """A zip of `entries` (a dict or (name, text) pairs; a name ending in "/" is a folder entry), in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items() if isinstance(entries, dict) else entries:
            archive.writestr(zipfile.ZipInfo(name), text)
    return buffer.getvalue()


def assert_nothing_stored(store) -> None:
    assert list(store.iterdir()) == []  # the staging folder went with the error


def test_a_zip_with_one_folder_entry_over_the_cap_is_refused_and_leaves_nothing(tmp_path):
    data = zipped({f"d{index}/": "" for index in range(MAX_FOLDER_DIRS + 1)})
    with pytest.raises(JaneDoeInputError, match=f"more than {MAX_FOLDER_DIRS} folders") as refused:
        store_job_folder(data, tmp_path / "store")
    assert "\n" not in str(refused.value)
    assert_nothing_stored(tmp_path / "store")
    stored = store_job_folder(zipped({f"d{index}/": "" for index in range(MAX_FOLDER_DIRS)}), tmp_path / "store")[1]
    assert len(list(stored.iterdir())) == MAX_FOLDER_DIRS  # the cap itself is allowed


def test_folders_implied_by_a_file_path_count_too(tmp_path):
    deep = "/".join(f"d{level}" for level in range(6)) + "/analysis.py"
    with pytest.raises(JaneDoeInputError, match="more than 5 folders"):
        store_job_folder(zipped({deep: "print('hi')\n"}), tmp_path / "store", max_dirs=5)
    assert_nothing_stored(tmp_path / "store")


@pytest.mark.filterwarnings("ignore:Duplicate name")  # a folder entry given twice is allowed
def test_a_normal_zip_with_a_few_folders_is_stored_with_them(tmp_path):
    data = zipped([("lib/", ""), ("lib/helpers.py", "x = 1\n"), ("lib/", ""), ("data/raw/", ""),
                   ("out/tables/a.csv", "n\n"), ("analysis.py", "print('hi')\n")])
    _digest, stored = store_job_folder(data, tmp_path / "store", max_dirs=5)
    folders = sorted(str(path.relative_to(stored)) for path in stored.rglob("*") if path.is_dir())
    assert folders == ["data", "data/raw", "lib", "out", "out/tables"]
    assert (stored / "lib/helpers.py").read_text() == "x = 1\n"


def test_a_name_that_is_both_a_file_and_a_folder_is_a_one_line_error(tmp_path):
    for entries in ({"lib": "x", "lib/": ""}, {"lib": "x", "lib/a.py": "y"}, {"lib/": "", "lib": "x"}):
        with pytest.raises(JaneDoeInputError, match="both a file and a folder"):
            store_job_folder(zipped(entries), tmp_path / "store")
    assert_nothing_stored(tmp_path / "store")


def test_a_zip_listing_more_entries_than_the_caps_allow_is_refused_before_it_is_listed(tmp_path):
    entries = MAX_FOLDER_FILES + MAX_FOLDER_DIRS
    with pytest.raises(JaneDoeInputError, match=f"more than {entries} entries"):
        store_job_folder(zipped({f"{index}/": "" for index in range(entries + 1)}), tmp_path / "store")
    # The count field lies (1 entry): the central directory's size still gives it away.
    data = bytearray(zipped({f"{index:05}/": "" for index in range(20_000)}))
    end = data.rindex(b"PK\x05\x06")
    data[end + 8:end + 12] = struct.pack("<HH", 1, 1)
    with pytest.raises(JaneDoeInputError, match="entries"):
        store_job_folder(bytes(data), tmp_path / "store")
    assert_nothing_stored(tmp_path / "store")


def test_a_submitted_tree_with_too_many_folders_is_refused(tmp_path):
    folder = tmp_path / "job"
    for index in range(4):
        (folder / f"d{index}").mkdir(parents=True)
    with pytest.raises(JaneDoeInputError, match="more than 3 folders"):
        store_job_folder(folder, tmp_path / "store", max_dirs=3)
    assert_nothing_stored(tmp_path / "store")
    assert store_job_folder(folder, tmp_path / "store", max_dirs=4)[1].is_dir()


def test_a_damaged_end_of_zip_record_is_a_one_line_error(tmp_path):
    several_disks = b"PK\x06\x07" + struct.pack("<LQL", 0, 0, 2) + b"PK\x05\x06" + b"\0" * 18  # zip64, 2 disks
    for data in (b"", b"abc", several_disks):
        with pytest.raises(JaneDoeInputError, match="not a zip file"):
            store_job_folder(data, tmp_path / "store")


def test_a_zip64_listing_is_counted_from_its_zip64_end_record(tmp_path):
    data = zipped({f"{index:05}/": "" for index in range(70_000)})  # past 65,535 entries: zip64 end records
    assert b"PK\x06\x06" in data[-200:]
    with pytest.raises(JaneDoeInputError, match="entries"):
        store_job_folder(data, tmp_path / "store")
    assert_nothing_stored(tmp_path / "store")
