"""Executing one task in a child process: papermill running ``lib/runs/run.ipynb``, or the same
code without Jupyter, in a scratch folder; its record and notebook come back as values.

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


def child_command(task: Task, configs_file: Path, out_dir: Path) -> list[str]:
    """``python -m lib train`` for the task: its configs from ``configs_file`` (JSON)."""
    cmd = [sys.executable, "-m", "lib", "train", "--config-file", str(configs_file)]
    cmd += ["--executor", task.executor, "--engine", task.engine, "--out", str(out_dir)]
    if task.checkpoint:
        cmd += ["--checkpoint", task.checkpoint]
    if task.deadline:
        cmd += ["--deadline", repr(task.deadline)]
    return cmd + (["--quiet"] if task.quiet else [])


def execute(task: Task) -> list[Outcome]:
    """Run one task in a child process and bring back its records and notebook.

    Runs wherever the executor puts it (a local thread, a Dask worker); needs only this
    repository importable there and Fashion-MNIST findable.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if task.threads:
        env["OMP_NUM_THREADS"] = str(task.threads)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="run-") as scratch:
        out = Path(scratch)
        log_path = out / "log.txt"
        configs_file = out / "configs.json"
        configs_file.write_text(json.dumps([config.to_dict() for config in task.configs]))
        with open(log_path, "w") as log:
            command = child_command(task, configs_file, out)
            returncode = _run_child(command, env, log if task.quiet else None)
        log_text = log_path.read_text()[-4000:]
        for config in task.configs:
            if returncode == PAUSED_EXIT:
                outcomes.append(Outcome(config, "paused", "time budget over", log=log_text))
                continue
            folder = child_out_dir(out, config.seed, len(task.configs))
            notebook = folder / "run.ipynb"
            record = None
            with contextlib.suppress(records.MalformedRecord, FileNotFoundError):
                record = records.read_record(folder / "record.json")
            if record is None:
                if returncode < 0:
                    reason = f"killed by signal {signal.Signals(-returncode).name}"
                else:
                    reason = f"exited with code {returncode} before writing a record"
                tail = log_text.strip().splitlines()[-1:] if log_text.strip() else []
                reason = ": ".join([reason, *tail])
                record = records.failed_record(config, reason, task.executor, _cpu_provenance())
            elif returncode != 0 and record["status"] == "complete" and len(task.configs) == 1:
                record.update(status="failed", reason=f"exit code {returncode} after training")
            outcomes.append(
                Outcome(
                    config,
                    record["status"],
                    record.get("reason") or "",
                    record,
                    notebook.read_bytes() if notebook.exists() else None,
                    log_text,
                )
            )
    return outcomes


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
    a failed record with the reason is written here. The failed notebook is kept.
    A kernel that dies without a cell raising (two kernels started at once can race for
    one port) gets one more start; the run resumes from its checkpoint, if it has one.
    """
    import papermill

    out_dir = Path(out_dir)
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
                str(out_dir / "run.ipynb"),
                parameters=parameters,
                progress_bar=False,
                cwd=str(REPO),
                kernel_name="python3",
            )
            break
        except Exception as error:  # PapermillExecutionError, dead kernel, missing kernel ...
            executed = isinstance(error, papermill.PapermillExecutionError)
            if not executed and starts_left and not (out_dir / "record.json").exists():
                tqdm.write(
                    f"{run_name(config)}: kernel failed "
                    f"({type(error).__name__}: {error}); starting it once more",
                    file=sys.stderr,
                )
                time.sleep(random.uniform(1, 5))  # out of step with the kernel it raced
                continue
            return _notebook_failure(config, out_dir, error, executed)
    return 0 if records.read_record(out_dir / "record.json")["status"] == "complete" else 1


def _notebook_failure(config: RunConfig, out_dir: Path, error: Exception, executed: bool) -> int:
    """PAUSED_EXIT for a run the budget paused, else 1 with a failed record written
    (unless the notebook wrote one)."""
    if executed and error.ename == "Paused":
        return PAUSED_EXIT
    if not (out_dir / "record.json").exists():
        reason = (
            f"{error.ename}: {error.evalue}" if executed else f"{type(error).__name__}: {error}"
        )
        records.write_record(
            records.failed_record(config, reason, "papermill", _cpu_provenance()),
            out_dir / "record.json",
        )
    return 1
