"""Executing one task in a child process: papermill running ``lib/runs/run.ipynb``, or the same
code without Jupyter.

Each record is written once, atomically, where it belongs. A local child writes its record and
notebook straight into the run folder under ``results/``; a Dask worker (perhaps another
machine) writes them into a scratch folder and they travel back in the ``Outcome`` for the
parent to write into place (``lib.runs.rundirs.save``).

The configs cross the process boundary as JSON (``RunConfig.to_dict`` / ``from_dict``), so
the child trains exactly the config the parent planned. A task runs unchanged in a local
thread or on a Dask worker on another machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from lib.core import records
from lib.core.config import RunConfig, run_name
from lib.core.repo import REPO
from lib.training.budget import PAUSED_EXIT, Budget

NOTEBOOK = Path(__file__).resolve().parent / "run.ipynb"
REPO = REPO
KERNEL_STARTS = 2  # a papermill run's kernel: one more start after one that died


def jupyter_available() -> bool:
    try:
        import ipykernel  # noqa: F401
        import papermill  # noqa: F401
    except ImportError:
        return False
    return True


def _cpu_provenance() -> dict:
    """Provenance for a run that died before writing its record: this process's machine."""
    import torch  # only on this rare path: the parent process stays free of torch

    from lib.training.provenance import provenance

    return provenance(torch.device("cpu"))


@dataclass
class Task:
    configs: list[RunConfig]  # one run, or several seeds of one arm for the fused engine
    executor: str  # papermill | direct
    engine: str  # single | fused
    quiet: bool
    threads: int | None = None  # torch threads for this run (None = torch's default)
    checkpoint: str | None = None  # epoch checkpoint of the task's run(s) (resumed when valid)
    deadline: float | None = None  # time.time() of the budget's end: pause, don't start epochs
    # The results folder when this process owns it: the child writes each record and notebook
    # into its run folder there. None (a Dask worker): a scratch folder, returned as values.
    results_dir: str | None = None


@dataclass
class Outcome:
    config: RunConfig
    # complete | failed | skipped | busy | paused (budget over, checkpoint kept)
    # | deferred (not started: expected to outlast the budget)
    status: str
    reason: str = ""
    record: dict | None = field(default=None, repr=False)
    notebook: bytes | None = field(default=None, repr=False)
    log: str = field(default="", repr=False)
    in_place: bool = False  # the child wrote record and notebook into the run folder already


def child_command(task: Task, configs_file: Path, scratch: Path) -> list[str]:
    """``python -m lib train`` for the task: its configs from ``configs_file`` (JSON), its
    records into the results folder, or ``scratch`` when the task has none."""
    cmd = [sys.executable, "-m", "lib", "train", "--config-file", str(configs_file)]
    cmd += ["--executor", task.executor, "--engine", task.engine]
    cmd += ["--results", task.results_dir] if task.results_dir else ["--out", str(scratch)]
    if task.checkpoint:
        cmd += ["--checkpoint", task.checkpoint]
    if task.deadline:
        cmd += ["--deadline", repr(task.deadline)]
    return cmd + (["--quiet"] if task.quiet else [])


def execute(task: Task) -> list[Outcome]:
    """Run one task in a child process and bring back its outcomes (with record and notebook
    as values when the child wrote them into scratch).

    Runs wherever the executor puts it (a local thread, a Dask worker); needs only this
    repository importable there and Fashion-MNIST findable.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if task.threads:
        env["OMP_NUM_THREADS"] = str(task.threads)
    with tempfile.TemporaryDirectory(prefix="run-") as scratch:
        scratch = Path(scratch)
        folders = {c.seed: _record_folder(task, c, scratch) for c in task.configs}
        # A record already in place (a failed or stale one) is not this run's outcome.
        before = {seed: _file_id(folder / "record.json") for seed, folder in folders.items()}
        configs_file = scratch / "configs.json"
        configs_file.write_text(json.dumps([config.to_dict() for config in task.configs]))
        with open(scratch / "log.txt", "w") as log:
            command = child_command(task, configs_file, scratch)
            returncode = _run_child(command, env, log if task.quiet else None)
        log_text = (scratch / "log.txt").read_text()[-4000:]
        if returncode == PAUSED_EXIT:
            return [Outcome(c, "paused", "time budget over", log=log_text) for c in task.configs]
        return [
            _outcome(task, config, folders[config.seed], before[config.seed], returncode, log_text)
            for config in task.configs
        ]


def _record_folder(task: Task, config: RunConfig, scratch: Path) -> Path:
    """Where the child writes this config's record: its run folder, or in scratch."""
    if task.results_dir:
        return records.record_path(task.results_dir, config.profile, config.arm, config.seed).parent
    return child_out_dir(scratch, config.seed, len(task.configs))


def _file_id(path: Path) -> tuple[int, int] | None:
    """Identity of the file at ``path`` now: every atomic write makes a new one."""
    with contextlib.suppress(FileNotFoundError):
        stat = path.stat()
        return stat.st_ino, stat.st_mtime_ns
    return None


def _outcome(task, config, folder: Path, before, returncode: int, log_text: str) -> Outcome:
    record = None
    if _file_id(folder / "record.json") != before:
        with contextlib.suppress(records.MalformedRecord, FileNotFoundError):
            record = records.read_record(folder / "record.json")
    if record is None:  # the child died first: the parent writes a failed record
        if returncode < 0:
            reason = f"killed by signal {signal.Signals(-returncode).name}"
        else:
            reason = f"exited with code {returncode} before writing a record"
        tail = log_text.strip().splitlines()[-1:] if log_text.strip() else []
        reason = ": ".join([reason, *tail])
        record = records.failed_record(config, reason, task.executor, _cpu_provenance())
        return Outcome(config, "failed", reason, record, None, log_text)
    reason = record.get("reason") or ""
    if returncode != 0 and record["status"] == "complete":
        reason = f"exit code {returncode} after its record was written"  # e.g. a plot failed
    notebook = folder / "run.ipynb"
    in_place = bool(task.results_dir)
    return Outcome(
        config,
        record["status"],
        reason,
        record,
        None if in_place or not notebook.exists() else notebook.read_bytes(),
        log_text,
        in_place,
    )


def _run_child(cmd: list[str], env: dict, log) -> int:
    """Run the child; with a ``log`` its output goes there and, line by line (one per
    epoch), to the batch's terminal and log; without, straight to the terminal."""
    if log is None:
        return subprocess.run(cmd, cwd=REPO, env=env).returncode
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in proc.stdout:
        log.write(line)
        log.flush()
        tqdm.write(line.rstrip(), file=sys.stderr)
    return proc.wait()


def child_out_dir(out: Path, seed: int, runs: int) -> Path:
    """Where ``python -m lib train --out OUT`` writes a seed's files: OUT, or OUT/seed-K."""
    return Path(out) if runs == 1 else Path(out) / f"seed-{seed}"


def run_one(
    config: RunConfig,
    out_dir: Path,
    executor: str,
    progress: bool = True,
    checkpoint: str | None = None,
    deadline: float | None = None,
) -> dict:
    """Train one run and write its record into ``out_dir`` (the notebook's and CLI's body).

    Raises ``lib.training.budget.Paused`` (no record written) when ``deadline`` stops it early."""
    from lib.training.train import train

    budget = Budget(deadline) if deadline else None
    record = train(config, progress=progress, checkpoint=checkpoint, budget=budget)
    record["executor"] = executor
    records.write_record(record, Path(out_dir) / "record.json")
    return record


def run_notebook(
    config: RunConfig,
    out_dir: Path,
    quiet: bool,
    checkpoint: str | None = None,
    deadline: float | None = None,
) -> int:
    """Execute ``lib/runs/run.ipynb`` for one run with papermill; 0 when the run completed,
    ``PAUSED_EXIT`` when the time budget paused it (no record: the checkpoint holds it).

    The notebook writes the record itself; when it cannot (an exception, a dead kernel),
    a failed record with the reason is written here. The executed notebook, failed ones
    too, replaces ``run.ipynb`` once it ends (papermill saves it cell by cell into a hidden
    file beside it); a paused run's is dropped.
    A kernel that dies without a cell raising (two kernels started at once can race for
    one port) gets one more start; the run resumes from its checkpoint, if it has one.
    """
    import papermill

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record_path, executing = out_dir / "record.json", out_dir / ".executing.ipynb"
    before = _file_id(record_path)
    parameters = {
        "config": config.to_dict(),
        "out_dir": str(out_dir),
        "progress": not quiet,
        "checkpoint": checkpoint,
        "deadline": deadline,
    }
    for starts_left in reversed(range(KERNEL_STARTS)):
        try:
            papermill.execute_notebook(
                str(NOTEBOOK),
                str(executing),
                parameters=parameters,
                progress_bar=False,
                cwd=str(REPO),
                kernel_name="python3",
            )
            break
        except Exception as error:  # PapermillExecutionError, dead kernel, missing kernel ...
            executed = isinstance(error, papermill.PapermillExecutionError)
            wrote_record = _file_id(record_path) != before
            if not executed and starts_left and not wrote_record:
                tqdm.write(
                    f"{run_name(config)}: kernel failed "
                    f"({type(error).__name__}: {error}); starting it once more",
                    file=sys.stderr,
                )
                time.sleep(random.uniform(1, 5))  # out of step with the kernel it raced
                continue
            if executed and error.ename == "Paused":
                executing.unlink(missing_ok=True)
                return PAUSED_EXIT
            if not wrote_record:
                reason = (
                    f"{error.ename}: {error.evalue}"
                    if executed
                    else f"{type(error).__name__}: {error}"
                )
                failed = records.failed_record(config, reason, "papermill", _cpu_provenance())
                records.write_record(failed, record_path)
            _keep(executing, out_dir / "run.ipynb")
            return 1
    _keep(executing, out_dir / "run.ipynb")
    return 0 if records.read_record(record_path)["status"] == "complete" else 1


def _keep(executing: Path, notebook: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # a kernel that never started wrote none
        os.replace(executing, notebook)
