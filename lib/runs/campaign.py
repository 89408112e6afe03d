"""The paper campaign on a CPU: chunks of a few hours, run from a clean worktree of HEAD.

``make campaign`` (``python -m lib campaign start``) checks out HEAD into
``.campaign/worktree-<commit>`` and starts, in the background, the next chunk of the plan there:
every record it writes names that clean commit, while development goes on in this tree.
Records land in this checkout's ``results/``, each run's epoch checkpoint beside its record;
a chunk stops at its time budget and the next one resumes. ``status`` prints where the
plan stands; ``commit`` commits the complete, clean-commit records (never a partial one).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from lib.core import records
from lib.core.config import RunConfig, run_name
from lib.core.plan import PROFILE, STAGES
from lib.core.repo import REPO, RESULTS_DIR
from lib.runs.estimates import core_seconds_per_epoch, epochs_checkpointed, seconds_left
from lib.runs.rundirs import existing_state, is_running, run_dir
from lib.runs.runner import plan
from lib.runs.worktrees import git, prepare_worktree, running_chunks

CAMPAIGN_DIR = REPO / ".campaign"  # git-ignored: worktrees and the chunks' logs
# Two runs of one thread each by default: they train more images per second in total than
# one run of two threads (lib.runs.estimates.TWO_THREAD_EFFICIENCY has the measurement).
JOBS = 2
UNMEASURED = "time left unknown until a run completes in the precision this machine trains in"


def campaign_plan() -> list[RunConfig]:
    """Every run of every stage, stage after stage, each stage in seed order."""
    return [c for s in STAGES for c in plan(PROFILE, list(s.arms), list(s.seeds), s.order)]


def stage_of(config: RunConfig) -> str:
    return next(s.name for s in STAGES if config.arm in s.arms and config.seed in s.seeds)


# --- where the plan stands --------------------------------------------------------------


def table(configs: list[RunConfig], results_dir: Path) -> pd.DataFrame:
    """One row per planned run: state, epochs done, estimated core-hours left."""
    per_epoch = core_seconds_per_epoch(configs, results_dir)
    rows = []
    for config in configs:
        state, _ = existing_state(results_dir, config)
        done = config.epochs if state == "complete" else epochs_checkpointed(config, results_dir)
        left = (
            (config.epochs - done) * per_epoch.get(config.arm, math.nan)
            if done < config.epochs
            else 0
        )
        rows.append(
            {
                "stage": stage_of(config) if config.profile == PROFILE else "",
                "arm": config.arm,
                "seed": config.seed,
                "state": _progress(state, done, is_running(results_dir, config)),
                "epochs done": f"{done:.3g}/{config.epochs}",  # inside an epoch: 4.25/10
                "core-hours left": round(left / 3600, 2),
            }
        )
    return pd.DataFrame(rows)


def _progress(state: str, epochs_done: int, running: bool) -> str:
    """complete | running (a batch trains it now) | in progress (checkpointed) | the record's
    state (missing, failed, stale, malformed)."""
    if running:
        return "running"
    return "in progress" if epochs_done and state != "complete" else state


def chunk_summary(
    configs: list[RunConfig], outcomes: list, results_dir: Path, cpu_seconds: float
) -> str:
    """What a budgeted chunk did and what is left of its plan."""
    added = [o for o in outcomes if o.status == "complete"]
    rows = table(configs, results_dir)
    in_progress = rows[rows.state.isin(["in progress", "running"])]
    left = rows["core-hours left"]
    lines = [
        f"records added: {len(added)}" + "".join(f"\n  {run_name(o.config)}" for o in added),
        f"runs in progress: {len(in_progress)}"
        + "".join(
            f"\n  {r.arm} seed {r.seed}: {r['epochs done']} epochs"
            for _, r in in_progress.iterrows()
        ),
        f"CPU time of this chunk: {cpu_seconds / 3600:.2f} h",
        f"plan: {int((rows.state == 'complete').sum())}/{len(rows)} runs complete, "
        + (
            f"about {left.sum():.1f} core-hours left ({left.sum() / 2:.1f} h on 2 cores)"
            if left.notna().all()
            else UNMEASURED
        ),
    ]
    return "\n".join(lines)


# --- chunks: start, status, commit ---------------------------------------------------------


def start(
    budget: str,
    results_dir: Path = RESULTS_DIR,
    jobs: int = JOBS,
    across_chunks: bool = False,
) -> Path:
    """Start the next chunk in the background; returns its log file. A chunk already
    running keeps its runs (locks): the new one takes the plan's next runs beside it."""
    if running := running_chunks():
        print(f"note: {len(set(running.values()))} chunk(s) already running; the cores are shared")
    if git("status", "--porcelain", "--untracked-files=no", "--", "lib"):
        print("note: lib/ has uncommitted changes; the campaign runs HEAD without them")
    worktree, head = prepare_worktree()
    logs = CAMPAIGN_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"chunk-{time.strftime('%Y%m%d-%H%M%S')}-{head[:7]}.log"
    command = [sys.executable, "-m", "lib", "campaign", "run", "--budget", budget]
    command += ["--jobs", str(jobs)] + (["--across-chunks"] if across_chunks else [])
    command += ["--results", str(Path(results_dir).resolve())]
    with open(log, "w") as out:
        subprocess.Popen(
            command,
            cwd=worktree,
            env={**os.environ, "PYTHONPATH": str(worktree)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the shell that started it
        )
    return log


def run(budget_s: float, results_dir: Path, jobs: int = JOBS, across_chunks: bool = False) -> int:
    """One chunk in the foreground: the plan's next runs until the budget ends.

    A run starts only if it is expected to finish within the budget (a fresh checkout
    has no checkpoints: a run cut off when the machine goes would be lost); the next runs of
    the plan that fit take its place. ``across_chunks`` starts the plan's runs in order
    whatever their length: one that cannot finish pauses at the budget with its checkpoint
    (inside an epoch if need be) and resumes in the next chunk on this checkout, or on this
    machine from the checkpoint's spare (``lib.training.checkpoint.spare_for``) if the checkout was
    laid anew (runs longer than any chunk need this)."""
    from lib.runs.runner import cpu_seconds_of_children, run_batch, summarise
    from lib.training.budget import Budget

    configs = campaign_plan()
    budget = Budget.starting_now(budget_s)
    per_epoch = core_seconds_per_epoch(configs, results_dir)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    print(
        f"chunk: {len(configs)} planned runs, commit {git('rev-parse', 'HEAD')[:10]}, "
        f"code in {REPO}, budget {budget_s / 60:.0f} min, {jobs} at once"
        + (", runs may continue in the next chunk" if across_chunks else ""),
        flush=True,
    )

    def must_fit(config: RunConfig) -> float | None:  # seconds; None: not measured yet
        if across_chunks:  # any run progresses: it pauses inside an epoch if need be
            return None
        return seconds_left(config, results_dir, per_epoch, threads)

    outcomes = run_batch(
        PROFILE,
        configs=configs,
        jobs=jobs,
        budget=budget,
        results_dir=results_dir,
        expected_seconds=must_fit,
    )
    print(summarise(outcomes))
    print(chunk_summary(configs, outcomes, results_dir, cpu_seconds_of_children()))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def status(results_dir: Path = RESULTS_DIR) -> str:
    rows = table(campaign_plan(), results_dir)
    worktrees = sorted({w.name for w in running_chunks().values()})
    lines = [f"chunks running from: {', '.join(worktrees)}" if worktrees else "no chunk running"]
    logs = sorted((CAMPAIGN_DIR / "logs").glob("chunk-*.log"), key=lambda p: p.stat().st_mtime)
    if logs:
        lines.append(f"latest log: {logs[-1]}")
    for stage, group in rows.groupby("stage", sort=False):
        complete = int((group.state == "complete").sum())
        lines.append(f"\nstage {stage}: {complete}/{len(group)} complete")
        lines.append(group.drop(columns="stage").to_string(index=False))
    left = rows["core-hours left"]
    if left.notna().all():
        lines.append(f"\nleft: {left.sum():.1f} core-hours ({left.sum() / 2:.1f} h on 2 cores)")
    else:
        lines.append(f"\nleft: {UNMEASURED}")
    return "\n".join(lines)


def committable(results_dir: Path = RESULTS_DIR) -> list[RunConfig]:
    """Planned runs whose record is complete, current and from a clean commit."""
    ready = []
    for config in campaign_plan():
        if existing_state(results_dir, config)[0] != "complete":
            continue
        path = records.record_path(results_dir, config.profile, config.arm, config.seed)
        if not records.read_record(path)["provenance"]["git_dirty"]:
            ready.append(config)
    return ready


def commit(results_dir: Path = RESULTS_DIR) -> str:
    """Commit the complete clean-commit records (and their notebooks) not yet committed."""
    paths = []
    for config in committable(results_dir):
        folder = run_dir(results_dir, config)
        paths += [str(p) for p in (folder / "record.json", folder / "run.ipynb") if p.exists()]
    new = git("status", "--porcelain", "--untracked-files=all", "--", *paths) if paths else ""
    new_records = [line[3:] for line in new.splitlines() if line.endswith("record.json")]
    if not new_records:
        return "nothing to commit: no new complete record"
    hours = {}
    for line in new_records:
        record = records.read_record(REPO / line)
        hours[f"{record['arm']} seed {record['seed']}"] = records.core_seconds(record) / 3600
    message = (
        f"results/paper: {len(hours)} complete records, {sum(hours.values()):.2f} core-hours "
        "(lib.core.records.core_seconds: each run's CPU time, else wall time x threads)\n\n"
        + "\n".join(f"{run}: {h:.2f} h" for run, h in hours.items())
    )
    git("add", "--", *paths)
    git("commit", "--quiet", "-m", message, "--", *paths)
    return message
