"""The campaign: expand (arm x seed) grids and execute each run, resumably.

Every run executes in a child process (``lib.runs.execute``: papermill executing
``lib/runs/run.ipynb``, or the same code without Jupyter), which writes its record and
executed notebook once, atomically, into ``results/<profile>/<arm>/seed-<k>/``; for a run
that died first the parent writes a failed record there. So a crashed or killed run never
leaves a partial record and the batch carries on. The same task runs unchanged on a Dask
worker on another machine: there the files go to a scratch folder and travel back as
return values, and the parent writes them into place.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import os
import resource
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from lib.core.arms import ARMS, get_profile, run_config
from lib.core.config import RunConfig, run_name
from lib.core.repo import RESULTS_DIR
from lib.runs.execute import Outcome, Task, execute, jupyter_available
from lib.runs.rundirs import existing_state, run_dir, run_lock, save
from lib.training import checkpoint
from lib.training.budget import Budget


def plan(
    profile: str,
    arms: list[str] | None,
    seeds: list[int] | None,
    order: str = "arm",
    **overrides,
) -> list[RunConfig]:
    """The grid's runs. ``arm`` order: every seed of an arm, arms in registry order;
    ``seed`` order: seed 0 of every arm, then seed 1 ..., cheapest arm first within a seed,
    so that a campaign stopped at any moment has balanced seed counts."""
    p = get_profile(profile)
    configs = [
        run_config(arm, profile, seed, **overrides)
        for arm in arms or list(ARMS)
        for seed in (p.seeds if seeds is None else seeds)
    ]
    if order == "seed":
        return sorted(configs, key=lambda c: (c.seed, training_cost(c)))
    if order != "arm":
        raise ValueError(f"order must be arm or seed, got {order!r}")
    return configs


def training_cost(config: RunConfig) -> float:
    """Nominal training FLOPs of a whole run (all epochs, all training images)."""
    return _flops_per_image(config.replace(seed=0)) * config.epochs * config.train_subset


@functools.cache
def _flops_per_image(config: RunConfig) -> float:
    import torch

    from lib.model.resnet import training_flops_per_image

    with torch.device("meta"):  # shapes only: no memory, no initialisation
        return training_flops_per_image(config)


def run_batch(
    profile: str,
    arms: list[str] | None = None,
    seeds: list[int] | None = None,
    jobs: int = 1,
    force: bool = False,
    executor: str = "auto",
    scheduler: str | None = None,
    results_dir: Path = RESULTS_DIR,
    devices: list[str] | None = None,
    engine: str = "auto",
    seeds_at_once: int = 10,
    order: str = "arm",
    budget: Budget | None = None,
    configs: list[RunConfig] | None = None,
    expected_seconds=None,
    **overrides,
) -> list[Outcome]:
    """Execute every run of the grid that lacks a current complete record.

    ``scheduler``: address of a Dask scheduler (tcp://host:port) to send runs to;
    ``devices``: one device per concurrent run (e.g. cuda:0..3); default one per job;
    ``engine``: single (one model per process) or fused (up to ``seeds_at_once`` seeds of
    an arm as one wide model; direct executor only); auto = fused on CUDA, else single;
    ``order``: arm or seed (see ``plan``); ``configs``: run exactly these instead of a grid;
    ``budget``: start no run, and let no run start an epoch, that would end after it;
    ``expected_seconds(config)``: with a budget, a run expected to take longer than what
    is left is deferred (not started) and the next that fits goes first.
    Local runs (one model or a fused group) save a checkpoint after every epoch and resume
    from it.
    """
    results_dir = Path(results_dir)
    if executor == "auto":
        executor = "papermill" if jupyter_available() else "direct"
    if executor == "papermill" and not jupyter_available():
        raise RuntimeError("executor papermill needs papermill and ipykernel installed")
    configs = configs if configs is not None else plan(profile, arms, seeds, order, **overrides)
    outcomes, todo = [], []
    for config in configs:
        state, detail = existing_state(results_dir, config)
        if state == "complete" and not force:
            outcomes.append(Outcome(config, "skipped", "complete record matches config"))
            continue
        if state in ("stale", "malformed", "failed"):
            tqdm.write(f"{run_name(config)}: {state} record ({detail}); rerunning")
        todo.append(config)

    slots = devices or _default_devices(jobs, overrides.get("device"))
    jobs = len(slots)
    quiet = jobs > 1 or scheduler is not None
    threads = max(1, (os.cpu_count() or 1) // jobs) if scheduler is None else None
    if engine == "auto":
        engine = "fused" if executor == "direct" and _on_cuda(overrides.get("device")) else "single"
    if engine == "fused" and executor != "direct":
        raise RuntimeError("the fused engine runs without notebooks: use --executor direct")
    # Local children write records and checkpoints into the run folders themselves; Dask
    # workers (maybe other machines) send records back and keep no checkpoint. A fused
    # group's checkpoint is next to its first seed's record.
    owns_results = scheduler is None
    with contextlib.ExitStack() as stack:
        if scheduler:
            from distributed import Client

            client = stack.enter_context(Client(scheduler))
            pool = client.get_executor(pure=False)
        else:
            pool = stack.enter_context(cf.ThreadPoolExecutor(max_workers=jobs))
        bar = stack.enter_context(tqdm(total=len(configs), desc=f"{profile} runs", unit="run"))
        bar.update(len(outcomes))
        pending, free = {}, list(slots)
        queue = _groups(todo, seeds_at_once if engine == "fused" else 1)
        while queue or pending:
            while queue and free and not (budget and budget.left() < MIN_START_S):
                group = queue.pop(0)
                if too_long := _too_long(group[0], budget, expected_seconds):
                    outcomes += [Outcome(c, "deferred", too_long) for c in group]
                    bar.update(len(group))
                    continue
                slot = free.pop(0)
                locks = stack.enter_context(contextlib.ExitStack())
                mine = []
                for config in group:
                    owned = locks.enter_context(run_lock(results_dir, config))
                    # Another batch may have run it since we planned: look again, locked.
                    if owned and (force or existing_state(results_dir, config)[0] != "complete"):
                        mine.append(config)
                        continue
                    reason = "done meanwhile" if owned else "another batch is running it"
                    outcomes.append(Outcome(config, "skipped" if owned else "busy", reason))
                    bar.update()
                if not mine:
                    locks.close()
                    free.append(slot)
                    continue
                mine = [config.replace(device=slot) for config in mine] if slot else mine
                task = Task(mine, executor, engine, quiet, threads)
                if owns_results:
                    task.checkpoint = str(checkpoint.path_for(run_dir(results_dir, mine[0])))
                    task.results_dir = str(results_dir.resolve())
                task.deadline = budget.deadline if budget else None
                pending[pool.submit(execute, task)] = (slot, locks)
            if not pending:  # the budget is over: nothing runs, the rest waits
                break
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for future in done:
                slot, locks = pending.pop(future)
                for outcome in future.result():
                    save(results_dir, outcome)
                    outcomes.append(outcome)
                    bar.update()
                    tqdm.write(_outcome_line(outcome))
                locks.close()
                free.append(slot)
    return outcomes


# Start no run when less than this is left of the budget: loading the data and timing the
# first steps of an epoch alone take about a minute at the paper's width on two cores.
MIN_START_S = 120


def _too_long(config: RunConfig, budget: Budget | None, expected_seconds) -> str:
    """Why the run may not start within what is left of the budget ('' if it may)."""
    expected = expected_seconds(config) if budget and expected_seconds else None
    if expected is None or expected <= budget.left():
        return ""
    return f"needs about {expected / 60:.0f} min, {budget.left() / 60:.0f} min left"


def cpu_seconds_of_children() -> float:
    """User + system CPU time of every finished child process (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _groups(configs: list[RunConfig], size: int) -> list[list[RunConfig]]:
    """Consecutive runs of the same arm, at most ``size`` per group."""
    groups = []
    for config in configs:
        if groups and len(groups[-1]) < size and groups[-1][0].arm == config.arm:
            groups[-1].append(config)
        else:
            groups.append([config])
    return groups


def _on_cuda(device: str | None) -> bool:
    from lib.training.train import resolve_device

    return resolve_device(device or "auto").type == "cuda"


def _outcome_line(outcome: Outcome) -> str:
    tag = outcome.status if outcome.status in ("complete", "paused") else "FAILED"
    acc = (outcome.record or {}).get("final_test_accuracy")
    return (
        f"{tag}: {run_name(outcome.config)}"
        + (f" test acc {acc:.2f} %" if acc is not None else "")
        + (f" ({outcome.reason})" if outcome.reason else "")
    )


def _default_devices(jobs: int, device: str | None) -> list[str | None]:
    """One run per GPU when several are present and jobs allows; otherwise ``jobs`` slots."""
    import torch

    if device in (None, "auto") and torch.cuda.device_count() > 1:
        return [f"cuda:{i}" for i in range(min(max(jobs, 1), torch.cuda.device_count()))]
    return [None] * max(1, jobs)


def summarise(outcomes: list[Outcome]) -> str:
    counts = Counter(o.status for o in outcomes)
    lines = [
        ", ".join(
            f"{counts[s]} {s}"
            for s in ("complete", "skipped", "failed", "busy", "paused", "deferred")
            if counts[s]
        )
    ]
    lines += [
        f"  failed: {run_name(o.config)}: {o.reason}" for o in outcomes if o.status == "failed"
    ]
    return "\n".join(lines)
