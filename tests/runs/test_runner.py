"""The campaign runner, for real: papermill notebooks, resume, stale, failure, killed children,
Dask (SIGKILL of a whole batch and its resume: tests/training/test_checkpoint.py)."""

import ast
import json
import os
import re
import subprocess
import sys

import pytest

from lib.core import records
from lib.core.arms import run_config
from lib.core.repo import REPO
from lib.runs.runner import run_batch

REPO = REPO
# Short runs keep the suite fast: 1 epoch of the smoke profile (2,000 images, width 1/8).
SHORT = {"epochs": 1}


def lib_runs(results, args: str) -> list[str]:
    """`python -m lib runs --profile smoke ARGS --results RESULTS` as an argv."""
    return [
        sys.executable,
        "-m",
        "lib",
        "runs",
        "--profile",
        "smoke",
        *args.split(),
        "--results",
        str(results),
    ]


def record_at(results, arm, seed, profile="smoke"):
    return json.loads(records.record_path(results, profile, arm, seed).read_text())


@pytest.fixture(scope="module")
def papermill_batch(tmp_path_factory):
    """`make runs PROFILE=smoke ARMS=resnet34 SEEDS=0,1 JOBS=2` (one epoch), through papermill."""
    results = tmp_path_factory.mktemp("results")
    written = []  # records this process writes (the children's own writes are not seen)

    def counted(record, path):
        written.append(path)
        return write_record(record, path)

    write_record = records.write_record
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(records, "write_record", counted)
        outcomes = run_batch(
            "smoke",
            ["resnet34"],
            [0, 1],
            executor="papermill",
            results_dir=results,
            jobs=2,
            **SHORT,
        )
    return results, outcomes, written


def test_papermill_executes_one_notebook_per_run(papermill_batch):
    results, outcomes, _ = papermill_batch
    assert [o.status for o in outcomes] == ["complete", "complete"]
    for seed in (0, 1):
        folder = records.record_path(results, "smoke", "resnet34", seed).parent
        record = record_at(results, "resnet34", seed)
        assert record["status"] == "complete"
        assert record["executor"] == "papermill"
        assert record["result_key"] == run_config("resnet34", "smoke", seed, **SHORT).result_key()
        notebook = json.loads((folder / "run.ipynb").read_text())
        parameters = [
            c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
        ]
        injected = "".join(parameters[0]["source"]) if parameters else ""
        config = run_config("resnet34", "smoke", seed, **SHORT).to_dict()
        line = next(row for row in injected.splitlines() if row.startswith("config = "))
        assert ast.literal_eval(line.removeprefix("config = ")) == config  # the whole config
        assert any(
            o.get("output_type") == "display_data"
            for c in notebook["cells"]
            for o in c.get("outputs", [])
        ), "the notebook shows the run's curves"


def test_each_record_is_written_once_by_the_run_itself(papermill_batch):
    """The notebook writes record and notebook into the run folder; the batch writes neither
    again, and no half-executed notebook is left beside them."""
    results, outcomes, written = papermill_batch
    assert written == []
    assert all(o.in_place and o.notebook is None for o in outcomes)
    for seed in (0, 1):
        folder = records.record_path(results, "smoke", "resnet34", seed).parent
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lock")) == [
            "record.json",
            "run.ipynb",
        ]


def test_second_batch_skips_complete_runs(papermill_batch):
    results, _, _ = papermill_batch
    before = record_at(results, "resnet34", 0)["finished_at"]
    outcomes = run_batch(
        "smoke", ["resnet34"], [0, 1], executor="papermill", results_dir=results, **SHORT
    )
    assert [o.status for o in outcomes] == ["skipped", "skipped"]
    assert record_at(results, "resnet34", 0)["finished_at"] == before


def test_failed_run_is_recorded_and_batch_carries_on(tmp_path):
    cmd = lib_runs(
        tmp_path,
        "--arms resnet34,resnet34_selu --seeds 0 --lr inf --epochs 1 --executor papermill --jobs 2",
    )
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "2 failed" in proc.stdout and "non-finite" in proc.stdout
    for arm in ("resnet34", "resnet34_selu"):  # the first failure did not stop the batch
        record = record_at(tmp_path, arm, 0)
        assert record["status"] == "failed" and "non-finite" in record["reason"]
        # papermill keeps the failed notebook, and it says it failed
        notebook = records.record_path(tmp_path, "smoke", arm, 0).parent / "run.ipynb"
        assert "RuntimeError" in notebook.read_text()


def test_a_run_whose_kernel_dies_at_start_up_is_started_once_more(tmp_path, flaky_kernel):
    """Two runs at once start two kernels, which can race for one port; the loser's run
    gets one more kernel instead of a failed record."""
    marker = flaky_kernel("python3")  # the kernel lib/runs/run.ipynb is executed with
    outcomes = run_batch(  # jobs=2: its output is captured in the outcome's log
        "smoke", ["resnet34"], [0], executor="papermill", results_dir=tmp_path, jobs=2, **SHORT
    )
    assert marker.exists()  # the first start did fail
    assert [o.status for o in outcomes] == ["complete"], outcomes[0].reason
    assert "kernel failed (RuntimeError: Kernel died" in outcomes[0].log


def test_killed_child_is_recorded_as_failed(tmp_path, monkeypatch):
    """A run whose process dies (here: killed by the OS) is a failed record, with reason."""
    import lib.runs.execute as execute

    def killed_child(task, configs_file, out_dir):  # the child kills itself with SIGKILL
        return [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]

    monkeypatch.setattr(execute, "child_command", killed_child)
    config = run_config("resnet34", "smoke", 0)
    earlier = records.failed_record(config, "an earlier attempt", "direct", {})
    records.write_record(earlier, records.record_path(tmp_path, "smoke", "resnet34", 0))
    outcomes = run_batch("smoke", ["resnet34"], [0], executor="direct", results_dir=tmp_path)
    assert outcomes[0].status == "failed" and "SIGKILL" in outcomes[0].reason
    # the earlier record in the run folder is not taken for this run's
    assert "SIGKILL" in record_at(tmp_path, "resnet34", 0)["reason"]


@pytest.mark.usefixtures("fashion_mnist_dir")  # tests/conftest.py: skips without the dataset
def test_dask_local_cluster_gives_the_same_records_as_local(tmp_path, monkeypatch):
    """Exact fp32 equality, because both sides train with one torch thread on this machine.

    The local path gives each run os.cpu_count() // jobs threads (OMP_NUM_THREADS in its
    child), a Dask worker's child inherits the worker's OMP_NUM_THREADS (1: the test's and
    the nanny's); different thread counts split the reductions differently and change fp32
    losses in the last bits, so jobs = os.cpu_count() pins one thread locally too, and the
    records' provenance shows it. The CPU is named so that a GPU does not join in."""
    distributed = pytest.importorskip("distributed")
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")  # the Dask workers' environment, and local's alike
    grid = {
        "profile": "smoke",
        "arms": ["resnet34"],
        "seeds": [0, 1],
        "executor": "direct",
        "precision": "fp32",
        "device": "cpu",
        **SHORT,
    }
    local = run_batch(**grid, jobs=os.cpu_count() or 1, results_dir=tmp_path / "local")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_batch(
            **grid, scheduler=cluster.scheduler_address, results_dir=tmp_path / "dask"
        )
    assert [o.status for o in local] == [o.status for o in remote] == ["complete"] * 2
    for seed in (0, 1):
        a = record_at(tmp_path / "local", "resnet34", seed)
        b = record_at(tmp_path / "dask", "resnet34", seed)
        assert a["provenance"]["torch_threads"] == b["provenance"]["torch_threads"] == 1
        assert a["provenance"]["device"] == b["provenance"]["device"] == "cpu"
        assert a["result_key"] == b["result_key"]
        assert a["iteration_losses"] == b["iteration_losses"]
        assert a["final_test_accuracy"] == b["final_test_accuracy"]
    assert (
        record_at(tmp_path / "dask", "resnet34", 0)["iteration_losses"]
        != record_at(tmp_path / "dask", "resnet34", 1)["iteration_losses"]
    )  # the seeds differ: equal records are not two copies of one run


def test_two_batches_on_one_folder_run_each_run_once(tmp_path):
    # --jobs 2: one thread per run. Two batches whose runs take cpu_count threads each
    # oversubscribe the cores (OpenMP spin-waits): 42 s instead of 7 s on the 2-core dev CPU.
    cmd = lib_runs(tmp_path, "--arms resnet34 --seeds 0,1 --executor direct --epochs 1 --jobs 2")
    batches = [
        subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        for _ in range(2)
    ]
    summaries = [b.communicate(timeout=600)[0] for b in batches]
    assert all(b.returncode == 0 for b in batches)
    done = sum(int(m.group(1)) for s in summaries for m in re.finditer(r"(\d+) complete", s))
    assert done == 2, summaries  # each run trained once; the other batch skipped or saw it busy
    for seed in (0, 1):
        records.read_record(records.record_path(tmp_path, "smoke", "resnet34", seed))


def test_fused_engine_writes_one_record_per_seed(tmp_path):
    outcomes = run_batch(
        "smoke",
        ["resnet34"],
        [0, 1],
        executor="direct",
        engine="fused",
        results_dir=tmp_path,
        **SHORT,
    )
    assert [o.status for o in outcomes] == ["complete", "complete"]
    for seed in (0, 1):
        record = record_at(tmp_path, "resnet34", seed)
        assert record["engine"] == "fused" and record["seeds_at_once"] == 2
        assert record["config"]["seed"] == seed
    assert (
        record_at(tmp_path, "resnet34", 0)["iteration_losses"]
        != record_at(tmp_path, "resnet34", 1)["iteration_losses"]
    )
