"""lib.training.checkpoint and the loop's use of it: a run stopped after any epoch resumes to the
record an uninterrupted run writes; a checkpoint that does not fit is named and ignored."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from lib.core import records
from lib.core.arms import run_config
from lib.core.repo import REPO
from lib.runs import runner
from lib.runs.rundirs import run_dir
from lib.runs.runner import run_batch
from lib.training import checkpoint
from lib.training import fused as fused_module
from lib.training.budget import Budget, Paused
from lib.training.fused import train_fused
from lib.training.train import train

REPO = REPO

pytestmark = pytest.mark.usefixtures("one_thread")


class Stop(Exception):
    """Stands for a kill: raised right after an epoch's checkpoint is on disk."""


def tiny(**changes):
    """fp32 smoke model on 512 images, 3 epochs: a resume in the middle is possible."""
    base = run_config("resnet34", "smoke", 0, precision="fp32", epochs=3)
    return base.replace(**{"train_subset": 512, **changes})


def numbers(record: dict) -> tuple:
    """Everything a run computes: per-epoch metrics (timings aside) and iteration losses."""
    epochs = [{k: v for k, v in e.items() if k != "elapsed_s"} for e in record["epochs"]]
    return record["status"], epochs, record["iteration_losses"], record["final_test_accuracy"]


def stop_after(epoch: int):
    def on_epoch(metrics):
        if metrics["epoch"] == epoch:
            raise Stop

    return on_epoch


@pytest.fixture(scope="module")
def uninterrupted(fmnist_small_test):
    return train(tiny(), fmnist_small_test, progress=False)


@pytest.mark.parametrize("stops", [[1], [2], [1, 2]])
def test_stopped_runs_resume_to_the_uninterrupted_record(
    stops, uninterrupted, fmnist_small_test, tmp_path
):
    path = tmp_path / "run" / checkpoint.FILENAME
    for epoch in stops:
        with pytest.raises(Stop):
            train(tiny(), fmnist_small_test, False, stop_after(epoch), checkpoint=path)
    resumed = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed) == numbers(uninterrupted)
    assert resumed["resumed_after_epochs"] == stops
    assert uninterrupted["resumed_after_epochs"] == []
    assert resumed["cpu_time_s"] > 0


def test_no_checkpoint_after_the_last_epoch(fmnist_small_test, tmp_path):
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(3), checkpoint=path)
    saved = torch.load(path, weights_only=True)  # the epoch-2 checkpoint is the last one
    assert len(saved["progress"]["epochs"]) == 2
    assert saved["result_key"] == tiny().result_key()
    assert set(saved) >= {"model", "optimizer", "scheduler", "rng", "progress", "config"}


def test_a_checkpoint_of_another_config_is_named_and_ignored(
    uninterrupted, fmnist_small_test, tmp_path, capfd
):
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Stop):
        other = tiny(lr=3e-3)
        train(other, fmnist_small_test, False, stop_after(1), checkpoint=path)
    record = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(record) == numbers(uninterrupted)
    assert record["resumed_after_epochs"] == []
    err = capfd.readouterr().err
    assert str(path) in err and "another config" in err and "restarts" in err


def test_a_checkpoint_trained_in_another_precision_is_named_and_ignored(
    uninterrupted, fmnist_small_test, tmp_path, capfd
):
    """A run paused on a CPU with bf16 must not go on in fp32 on one without it (or the
    reverse): its record would misstate how its first epochs were trained."""
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    payload = torch.load(path, weights_only=True)
    assert payload["precision"] == "fp32"
    torch.save({**payload, "precision": "bf16"}, path)  # as saved on a machine with bf16
    record = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(record) == numbers(uninterrupted)
    assert record["resumed_after_epochs"] == []
    err = capfd.readouterr().err
    assert str(path) in err and "trained in bf16, this run trains in fp32" in err


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b"not a checkpoint", lambda b: b""],
    ids=["truncated", "garbage", "empty"],
)
def test_a_damaged_checkpoint_is_named_and_the_run_restarts(
    damage, uninterrupted, fmnist_small_test, tmp_path, capfd
):
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    path.write_bytes(damage(path.read_bytes()))
    record = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(record) == numbers(uninterrupted)
    assert record["resumed_after_epochs"] == []
    err = capfd.readouterr().err
    assert str(path) in err and "unreadable" in err


STEPS = 4  # tiny(): 512 images in batches of 128


class AllowsSteps(Budget):
    """A budget that lets the first ``steps`` training steps start and no other."""

    def __init__(self, steps: int):
        super().__init__(deadline=float("inf"))
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "asked", [])  # the seconds each step asked for

    def allows(self, seconds):
        self.asked.append(seconds)
        return len(self.asked) <= self.steps


def test_budget_pauses_before_an_epoch_and_the_run_resumes(
    uninterrupted, fmnist_small_test, tmp_path
):
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Paused) as paused:
        train(tiny(), fmnist_small_test, False, checkpoint=path, budget=AllowsSteps(STEPS))
    assert (paused.value.epochs_done, paused.value.epochs) == (1, 3)
    assert checkpoint.epochs_done(torch.load(path, weights_only=True)) == 1
    resumed = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed) == numbers(uninterrupted)


@pytest.mark.parametrize("chunks", [[1], [STEPS + 2], [2 * STEPS + 3], [1, 2, STEPS]])
def test_budget_pauses_inside_an_epoch_and_the_run_resumes_at_that_step(
    chunks, uninterrupted, fmnist_small_test, tmp_path
):
    """A chunk's end loses no step: the steps done of an epoch are checkpointed."""
    path = tmp_path / checkpoint.FILENAME
    done = 0
    for steps in chunks:
        with pytest.raises(Paused) as paused:
            train(tiny(), fmnist_small_test, False, checkpoint=path, budget=AllowsSteps(steps))
        done += steps
        assert paused.value.epochs_done == pytest.approx(done / STEPS)
        assert (
            checkpoint.epochs_done(torch.load(path, weights_only=True)) == paused.value.epochs_done
        )
    resumed = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed) == numbers(uninterrupted)
    starts = [sum(chunks[: k + 1]) / STEPS for k in range(len(chunks))]
    assert resumed["resumed_after_epochs"] == pytest.approx(starts)


def test_long_epochs_are_checkpointed_inside_and_a_kill_loses_only_the_steps_since(
    uninterrupted, fmnist_small_test, tmp_path, monkeypatch
):
    import lib.training.loop
    import lib.training.train

    monkeypatch.setattr(lib.training.loop, "SAVE_EVERY_S", 0.0)  # every step is past the interval
    step, calls = lib.training.train.SingleEngine.step, []

    def killed_at_step_7(engine, index):
        calls.append(1)
        if len(calls) == 7:  # the 3rd step of epoch 2
            raise Stop
        return step(engine, index)

    path = tmp_path / checkpoint.FILENAME
    with monkeypatch.context() as patch:
        patch.setattr(lib.training.train.SingleEngine, "step", killed_at_step_7)
        with pytest.raises(Stop):
            train(tiny(), fmnist_small_test, False, checkpoint=path)
    assert checkpoint.epochs_done(torch.load(path, weights_only=True)) == 1 + 2 / STEPS
    resumed = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed) == numbers(uninterrupted)
    assert resumed["resumed_after_epochs"] == [1.5]


def test_an_expired_budget_starts_nothing(fmnist_small_test, tmp_path):
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Paused) as paused:
        train(tiny(), fmnist_small_test, False, checkpoint=path, budget=Budget(0.0))
    assert paused.value.epochs_done == 0 and not path.exists()


def test_the_last_step_of_an_epoch_asks_room_for_the_evaluation(fmnist_small_test, monkeypatch):
    import lib.training.train

    evaluate = lib.training.train.SingleEngine.evaluate

    def slow_evaluation(engine):
        time.sleep(2.0)
        return evaluate(engine)

    monkeypatch.setattr(lib.training.train.SingleEngine, "evaluate", slow_evaluation)
    budget = AllowsSteps(10**6)
    train(tiny(), fmnist_small_test, False, budget=budget)
    asked = torch.tensor(budget.asked).view(3, STEPS)  # epochs x steps
    later = asked[1:]  # from epoch 2 the last evaluation's length is known
    assert (later[:, -1] >= 2.0).all()
    assert (later[:, :-1] < later[:, -1:] - 1.5).all()


def test_a_fused_group_pauses_and_resumes_to_its_uninterrupted_records(
    fmnist_small_test, tmp_path, capfd
):
    """Seeds fused as one model share one checkpoint, which continues exactly that group."""
    group = [tiny(), tiny(seed=1)]
    whole = train_fused(group, fmnist_small_test, progress=False)
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Paused) as paused:
        train_fused(group, fmnist_small_test, False, checkpoint=path, budget=AllowsSteps(6))
    assert (paused.value.epochs_done, paused.value.epochs) == (1.5, 3)  # inside epoch 2
    assert checkpoint.load(path, group[:1], "fp32") is None  # neither one of its seeds alone
    assert checkpoint.load(path, [tiny(), tiny(seed=2)], "fp32") is None  # nor another group
    assert "another config" in capfd.readouterr().err
    resumed = train_fused(group, fmnist_small_test, progress=False, checkpoint=path)
    assert [numbers(r) for r in resumed] == [numbers(r) for r in whole]
    assert [r["resumed_after_epochs"] for r in resumed] == [[1.5], [1.5]]
    assert [r["seed"] for r in resumed] == [0, 1]


def test_a_fused_group_with_a_diverged_seed_resumes_to_its_uninterrupted_records(
    fmnist_small_test, tmp_path, monkeypatch
):
    """A seed whose loss went non-finite stays failed across a pause; the others go on."""
    original_batches = fused_module.FusedEngine.batches

    def batches(engine, epoch):  # ruin seed 0's weights before its first epoch
        if epoch == 0:
            with torch.no_grad():
                for p in engine.model.parameters():
                    p.chunk(2)[0].fill_(float("nan"))
        return original_batches(engine, epoch)

    monkeypatch.setattr(fused_module.FusedEngine, "batches", batches)
    group = [tiny(), tiny(seed=1)]
    whole = train_fused(group, fmnist_small_test, progress=False)
    assert [r["status"] for r in whole] == ["failed", "complete"]
    assert "non-finite training loss at iteration 0 (epoch 1)" in whole[0]["reason"]
    path = tmp_path / checkpoint.FILENAME
    with pytest.raises(Paused):
        train_fused(group, fmnist_small_test, False, checkpoint=path, budget=AllowsSteps(5))
    resumed = train_fused(group, fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed[1]) == numbers(whole[1])
    failed = [
        (r["reason"], r["epochs"], len(r["iteration_losses"])) for r in (resumed[0], whole[0])
    ]
    assert failed[0] == failed[1]  # (its losses are NaN, which equal nothing)


def test_load_ignores_a_missing_file_silently(tmp_path, capfd):
    assert checkpoint.load(tmp_path / "none.pt", [tiny()], "fp32") is None
    assert checkpoint.load(None, [tiny()], "fp32") is None
    assert capfd.readouterr().err == ""


# --- the spare outside the work tree -----------------------------------------------------


def test_every_save_leaves_a_spare_outside_the_work_tree(
    fmnist_small_test, tmp_path, checkpoint_spares
):
    path = tmp_path / "run" / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    spare = checkpoint.spare_for(path)
    assert spare.is_relative_to(checkpoint_spares) and spare.read_bytes() == path.read_bytes()
    assert spare.stat().st_ino == path.stat().st_ino  # one file system: a link, not a copy


def test_a_run_whose_work_tree_was_laid_anew_resumes_from_its_spare(
    uninterrupted, fmnist_small_test, tmp_path, capfd
):
    path = tmp_path / "checkout" / "run" / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    shutil.rmtree(tmp_path / "checkout")
    resumed = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed) == numbers(uninterrupted)
    assert resumed["resumed_after_epochs"] == [1]
    assert f"its spare {checkpoint.spare_for(path)} stands in" in capfd.readouterr().err
    checkpoint.discard(path)
    assert not path.exists() and not checkpoint.spare_for(path).exists()


def test_a_spare_of_another_config_is_named_and_ignored(fmnist_small_test, tmp_path, capfd):
    path = tmp_path / "run" / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    path.unlink()
    assert checkpoint.load(path, [tiny(seed=1)], "fp32") is None
    named = capfd.readouterr().err
    assert str(checkpoint.spare_for(path)) in named and "made for another config" in named


def test_a_spare_that_cannot_be_written_costs_only_the_spare(
    uninterrupted, fmnist_small_test, tmp_path, monkeypatch, capfd
):
    not_a_folder = tmp_path / "spares"
    not_a_folder.write_text("")
    monkeypatch.setenv(checkpoint.SPARES_ENV, str(not_a_folder))
    path = tmp_path / "run" / checkpoint.FILENAME
    with pytest.raises(Stop):
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    assert path.exists() and f"checkpoint {path}: no spare at" in capfd.readouterr().err
    resumed = train(tiny(), fmnist_small_test, progress=False, checkpoint=path)
    assert numbers(resumed) == numbers(uninterrupted)


# --- through the runner: a real SIGKILL, both executors ------------------------------------


def runs_argv(results, executor: str) -> list[str]:
    return [
        sys.executable, "-m", "lib", "runs", "--profile", "smoke", "--arms", "resnet34",
        "--seeds", "0", "--precision", "fp32", "--epochs", "2", "--executor", executor,
        "--results", str(results),
    ]  # fmt: skip


def kill_after_first_checkpoint(results, executor: str) -> None:
    """Start a batch and SIGKILL its whole process group once epoch 1's checkpoint exists."""
    saved = checkpoint.path_for(run_dir(results, run_config("resnet34", "smoke", 0)))
    batch = subprocess.Popen(
        runs_argv(results, executor),
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    spare = checkpoint.spare_for(saved)  # the child runs inherit the tests' spares folder
    deadline = time.time() + 600
    while not (saved.exists() and spare.exists()) and batch.poll() is None:
        if time.time() > deadline:
            break
        time.sleep(0.05)
    os.killpg(batch.pid, signal.SIGKILL)
    batch.wait(timeout=60)
    assert saved.exists() and spare.exists(), "the batch ended or timed out before epoch 1's save"
    # killed mid-run: no record, or none that claims to be complete
    record = records.record_path(results, "smoke", "resnet34", 0)
    assert not record.exists() or records.read_record(record)["status"] != "complete"


GRID = dict(precision="fp32", epochs=2)  # killed after epoch 1, resumed for epoch 2


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict:
    """The uninterrupted run, through the runner (direct executor). Both executors' children
    run the same code with the thread count the runner gives them, so their records are
    the same: one reference serves the resumes of both."""
    results = tmp_path_factory.mktemp("whole")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OMP_NUM_THREADS", "1")  # as in the tests that kill and resume
        run_batch("smoke", ["resnet34"], [0], results_dir=results, executor="direct", **GRID)
    return records.read_record(records.record_path(results, "smoke", "resnet34", 0))


@pytest.mark.parametrize("executor", ["direct", "papermill"])
def test_sigkilled_batch_resumes_to_the_uninterrupted_record(
    executor, whole, tmp_path, monkeypatch
):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    kill_after_first_checkpoint(tmp_path / "killed", executor)
    outcomes = run_batch(
        "smoke", ["resnet34"], [0], results_dir=tmp_path / "killed", executor=executor, **GRID
    )
    assert [o.status for o in outcomes] == ["complete"]
    resumed = records.read_record(records.record_path(tmp_path / "killed", "smoke", "resnet34", 0))
    assert numbers(resumed) == numbers(whole)
    assert resumed["resumed_after_epochs"] and resumed["executor"] == executor
    folder = records.record_path(tmp_path / "killed", "smoke", "resnet34", 0).parent
    assert not checkpoint.path_for(folder).exists()  # spent once the record is written
    assert not checkpoint.spare_for(checkpoint.path_for(folder)).exists()
    assert not list(folder.glob(".*.tmp"))
    assert not (folder / ".executing.ipynb").exists()  # the killed run's, replaced and kept


@pytest.mark.parametrize(
    "executor, engine, seeds",
    [("direct", "single", [0]), ("papermill", "single", [0]), ("direct", "fused", [0, 1])],
)
def test_a_budget_that_ends_pauses_without_a_record(executor, engine, seeds, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MIN_START_S", -math.inf)  # start it although it is over
    outcomes = run_batch(
        "smoke",
        ["resnet34"],
        seeds,
        executor=executor,
        engine=engine,
        results_dir=tmp_path,
        budget=Budget(time.time() - 1),  # over by construction, however slow the machine
    )
    assert [(o.status, o.reason) for o in outcomes] == [("paused", "time budget over")] * len(seeds)
    for seed in seeds:
        folder = records.record_path(tmp_path, "smoke", "resnet34", seed).parent
        assert {p.name for p in folder.iterdir()} <= {".lock", ".checkpoint.pt"}  # no notebook


def test_no_run_starts_when_the_budget_is_spent(tmp_path):
    outcomes = run_batch("smoke", ["resnet34"], [0, 1], results_dir=tmp_path, budget=Budget(0))
    assert outcomes == []
    assert not (tmp_path / "smoke").exists() or not list((tmp_path / "smoke").rglob("*.json"))


def test_a_run_expected_to_outlast_the_budget_is_deferred_and_the_next_runs(tmp_path):
    outcomes = run_batch(
        "smoke",
        ["resnet34"],
        [0, 1],
        results_dir=tmp_path,
        executor="direct",
        epochs=1,
        budget=Budget.starting_now(3600),
        expected_seconds=lambda config: 1e6 if config.seed == 0 else None,
    )
    assert [(o.config.seed, o.status) for o in outcomes] == [(0, "deferred"), (1, "complete")]
    assert "needs about 16667 min" in outcomes[0].reason
    assert not records.record_path(tmp_path, "smoke", "resnet34", 0).exists()


def test_temp_files_of_a_torn_save_are_removed_by_the_run_not_by_readers(
    fmnist_small_test, tmp_path
):
    path = tmp_path / checkpoint.FILENAME
    torn = tmp_path / ".checkpoint-abc123.tmp"
    torn.write_bytes(b"half a checkpoint")
    assert checkpoint.load(path, [tiny()], "fp32") is None and torn.exists()  # a reader leaves it
    with pytest.raises(Stop):  # the run that owns the checkpoint cleans up
        train(tiny(), fmnist_small_test, False, stop_after(1), checkpoint=path)
    assert not torn.exists() and path.exists()
    torn.write_bytes(b"half a checkpoint")
    checkpoint.discard(path)
    assert not torn.exists() and not path.exists()
