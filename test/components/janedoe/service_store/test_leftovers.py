"""Start-up cleaning of the data dir: dead uploads and stale temp files go, live uploads and datasets stay."""

import os
import time

from janedoe.service_store import StateStore, UploadDir, remove_leftovers


def _aged(path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def test_a_live_upload_dir_is_kept_and_a_dead_ones_removed(tmp_path):
    state = StateStore.open(str(tmp_path / "state.db"))
    data_dir = state.datasets.data_dir
    live = UploadDir(state)
    with open(live.file("x.csv"), "w") as handle:
        handle.write("ssn\n123-45-6789\n")
    dead = UploadDir(state)
    dead_path = dead.path
    del dead  # its process "died": the lock goes with it, the files stay
    assert os.path.isdir(dead_path)
    assert remove_leftovers(data_dir) == 1
    assert os.path.isdir(live.path) and not os.path.exists(dead_path)
    live.remove()
    assert not os.path.exists(live.path) and remove_leftovers(data_dir) == 0
    state.close()


def test_temp_files_go_only_once_stale(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "jobs").mkdir(parents=True)
    old, fresh, job, dataset = (data_dir / ".a.parquet.1.tmp", data_dir / ".b.parquet.2.tmp",
                                data_dir / "jobs" / ".c.parquet.3.tmp", data_dir / "0123.parquet")
    for path in (old, fresh, job, dataset):
        path.write_bytes(b"x")
    for path in (old, job, dataset):
        _aged(path, 7200)
    unlocked_old = data_dir / ".upload-old"
    unlocked_old.mkdir()
    (unlocked_old / "upload.csv").write_bytes(b"raw")
    _aged(unlocked_old, 7200)
    unlocked_new = data_dir / ".upload-new"  # no lock yet: just being created
    unlocked_new.mkdir()
    assert remove_leftovers(str(data_dir)) == 3
    assert sorted(os.listdir(data_dir)) == [".b.parquet.2.tmp", ".upload-new", "0123.parquet", "jobs"]
    assert os.listdir(data_dir / "jobs") == []
