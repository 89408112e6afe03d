"""lib.runs.rundirs: a run folder's state, its lock, and what a finished run leaves there."""

import shutil

from lib.analysis.results import load_results
from lib.core import records
from lib.core.arms import run_config
from lib.core.repo import REPO
from lib.runs.execute import Outcome
from lib.runs.rundirs import existing_state, is_running, run_dir, run_lock, save
from lib.runs.runner import run_batch
from lib.training import checkpoint

FIXTURES = REPO / "tests" / "fixtures" / "results"
SELU = run_config("resnet34_selu", "smoke", 0)  # a fixture record has it (2 epochs)


def fixture_copy(tmp_path):
    """Real smoke records (copies of fixtures: no training needed to test the bookkeeping)."""
    shutil.copytree(FIXTURES / "smoke" / "resnet34_selu", tmp_path / "smoke" / "resnet34_selu")
    return tmp_path


def test_changed_config_is_stale_and_never_mixed(tmp_path):
    results = fixture_copy(tmp_path)
    state, detail = existing_state(results, SELU.replace(epochs=1))
    assert state == "stale" and "config changed" in detail
    assert existing_state(results, SELU) == ("complete", "")
    assert existing_state(results, SELU.replace(seed=5)) == ("missing", "")
    assert set(load_results("smoke", results, epochs=1)["status"]) == {"stale"}
    assert set(load_results("smoke", results)["status"]) == {"complete"}


def test_a_run_another_batch_holds_is_busy_and_not_trained(tmp_path):
    config = run_config("resnet34", "smoke", 0)
    assert not is_running(tmp_path, config)
    with run_lock(tmp_path, config) as owned:
        assert owned and is_running(tmp_path, config)
        with run_lock(tmp_path, config) as again:
            assert not again  # a second batch (here: the same process) does not get it
        outcomes = run_batch("smoke", ["resnet34"], [0], results_dir=tmp_path)
    assert [(o.status, o.reason) for o in outcomes] == [("busy", "another batch is running it")]
    assert not is_running(tmp_path, config)
    assert existing_state(tmp_path, config) == ("missing", "")


def test_a_paused_run_leaves_its_checkpoint_and_a_finished_one_spends_it(tmp_path):
    results = fixture_copy(tmp_path)
    record = records.read_record(records.record_path(results, "smoke", "resnet34_selu", 0))
    saved = checkpoint.path_for(run_dir(results, SELU))
    saved.write_bytes(b"epochs so far")
    save(results, Outcome(SELU, "paused", "time budget over"))
    assert saved.exists()
    save(results, Outcome(SELU, "complete", "", record, b"{}"))
    assert not saved.exists()
    assert (run_dir(results, SELU) / "run.ipynb").read_bytes() == b"{}"
    assert existing_state(results, SELU) == ("complete", "")


def test_an_outcome_its_run_wrote_in_place_is_not_written_again(tmp_path):
    results = fixture_copy(tmp_path)
    path = records.record_path(results, "smoke", "resnet34_selu", 0)
    written = path.stat()
    saved = checkpoint.path_for(run_dir(results, SELU))
    saved.write_bytes(b"epochs so far")
    save(results, Outcome(SELU, "complete", "", records.read_record(path), in_place=True))
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert not saved.exists()  # the run ended: its checkpoint is spent
