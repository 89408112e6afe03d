"""Execute every chapter of the book afresh, in parallel, into the build's jupyter-cache.

``make book`` runs this before ``jupyter-book build``. The chapters read results/ (or
$RESULTS_DIR), which neither Sphinx nor jupyter-cache watch: a cache keyed on the
notebooks' code would keep showing old numbers after a record changes. So the cache is
wiped and every notebook executed again on every build (one kernel per CPU core), and
jupyter-book then renders from that cache without executing anything itself.

    python book/execute.py --out BUILD_ROOT   # cache at BUILD_ROOT/_build/.jupyter_cache

Exits non-zero, with each failing notebook's traceback, when any chapter raises.

Before executing, every record the site reads is loaded once: an invalid or malformed record
(``lib.analysis.results``: left out of every number, named on the Reproducibility page) is printed
as a warning, and with ``--strict`` (``make book STRICT=1``) the build fails on it.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
LOGGER = logging.getLogger("book.execute")

# Seconds a cell may run before the build fails: the slowest cell (the Implementation page's
# FLOPs of every arm) takes about 3 minutes on two cores shared with training and a second
# chapter's kernel; a cell that hangs still fails the build.
CELL_TIMEOUT = 900


def chapters(toc: Path = REPO / "_toc.yml") -> list[Path]:
    """The notebooks named in the table of contents, in reading order (a Markdown page,
    such as the Code chapter, has nothing to execute)."""
    data = yaml.safe_load(toc.read_text())
    parts = data.get("parts", [data])  # chapters in captioned parts, or directly at the top
    files = [data["root"]] + [c["file"] for part in parts for c in part.get("chapters", [])]
    return [REPO / f"{n}.ipynb" for n in files if not (REPO / f"{n}.md").exists()]


def execute_one(cache_dir: str, uri: str, timeout: int) -> tuple[list, list, list]:
    """One chapter, in a pool worker, by jupyter-cache's serial executor: the uris that
    succeeded, raised (a cell) and errored (the executor, e.g. a kernel that died)."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    executor = load_executor("local-serial", get_cache(cache_dir), logger=LOGGER)
    result = executor.run_and_cache(filter_uris=[uri], timeout=timeout, allow_errors=False)
    return result.succeeded, result.excepted, result.errored


def execute(out: Path, timeout: int = CELL_TIMEOUT, notebooks: list[Path] | None = None) -> int:
    from jupyter_cache import get_cache
    from jupyter_cache.cache.db import NbProjectRecord
    from jupyter_cache.executors import load_executor
    from jupyter_cache.executors.base import ExecutorRunResult

    # The kernels import this checkout's lib, whatever the environment has installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    )
    cache_dir = out / "_build" / ".jupyter_cache"
    shutil.rmtree(cache_dir, ignore_errors=True)  # results may have changed: never reuse
    cache = get_cache(str(cache_dir))
    notebooks = notebooks or chapters()
    uris = [cache.add_nb_to_project(str(path)).uri for path in notebooks]
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    started = time.perf_counter()
    # Our own pool rather than jupyter-cache's "local-parallel": that one ends its
    # multiprocessing.Pool with SIGTERM, and nbclient leaves a SIGTERM handler installed in a
    # worker whose kernel died at start-up, so the pool waited for that worker forever. These
    # workers exit when the pool shuts down; "spawn" starts them without the parent's locks.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=spawn) as pool:
        parts = list(pool.map(execute_one, repeat(str(cache_dir)), uris, repeat(timeout)))
    result = ExecutorRunResult(*([uri for part in parts for uri in part[k]] for k in range(3)))
    if result.errored:
        # "Errored" is the executor failing, not a cell raising ("excepted"): typically a
        # kernel that died at start-up because two parallel kernels raced for one port
        # (jupyter_client picks a free port, the kernel binds it a moment later). Those
        # chapters get one more try, one kernel at a time.
        print(f"retrying {len(result.errored)} chapter(s) whose kernel failed, one at a time")
        retry = load_executor("local-serial", cache, logger=LOGGER).run_and_cache(
            filter_uris=result.errored, timeout=timeout, allow_errors=False
        )
        result.succeeded += retry.succeeded
        result.excepted += retry.excepted
        result.errored = retry.errored
    failed = result.excepted + result.errored
    for uri in failed:
        record = NbProjectRecord.record_from_uri(uri, cache.db)
        print(f"\nchapter failed: {uri}\n{record.traceback or '(no traceback)'}", file=sys.stderr)
    print(
        f"executed {len(result.succeeded)}/{len(notebooks)} chapters in "
        f"{time.perf_counter() - started:.0f} s" + (f"; {len(failed)} failed" if failed else "")
    )
    return 1 if failed or len(result.succeeded) != len(notebooks) else 0


def record_problems() -> list[str]:
    """One line per invalid or malformed record under the results folder the chapters read
    (``$RESULTS_DIR``, else results/), every profile with records."""
    sys.path.insert(0, str(REPO))  # this checkout's lib, as the kernels get it
    from lib.analysis.results import load_results
    from lib.report.results import available_profiles, results_dir

    folder = results_dir()
    lines = []
    for profile in available_profiles(folder):
        frame = load_results(profile, folder)
        for _, row in frame[frame["status"].isin(["invalid", "malformed"])].iterrows():
            lines.append(f"{row['path']}: {row['status']}: {row['reason']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO, help="build root (default: repo)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument(
        "--strict", action="store_true", help="fail when a record is invalid or malformed"
    )
    args = parser.parse_args(argv)
    problems = record_problems()
    summary = (
        f"{len(problems)} record(s) are invalid or malformed: left out of every number and "
        "named on the Reproducibility page"
    )
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    if problems and args.strict:
        print(f"error: {summary} (--strict: no site built)", file=sys.stderr)
        return 1
    code = execute(args.out.resolve(), args.timeout)
    if problems:
        print(f"warning: {summary}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
