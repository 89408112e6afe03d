"""The command line's grammar: ``python -m lib {train,runs,campaign,pack,info,bench} ...``.

``lib.__main__`` runs what it parses."""

from __future__ import annotations

import argparse
from pathlib import Path

from lib.core.arms import ARMS, PROFILES
from lib.core.repo import RESULTS_DIR
from lib.training.budget import PAUSED_EXIT, parse_duration

DESCRIPTION = "python -m lib {train,runs,campaign,pack,info,bench} ... (--help on each)"


def _csv(kind):
    return lambda text: [kind(item) for item in text.split(",") if item.strip()]


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


# The RunConfig fields a command line may override on top of (arm, profile, seed).
OVERRIDES = {
    "epochs": {"type": _positive, "help": "override the profile's epochs"},
    "lr": {"type": float, "help": "override the base learning rate (1e-3)"},
    "device": {"help": "auto (default), cpu, cuda or cuda:N"},
    "precision": {"choices": ["bf16", "fp32"], "help": "default bf16"},
}


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    for name, options in OVERRIDES.items():
        parser.add_argument(f"--{name}", **options)


def config_overrides(args) -> dict:
    return {n: getattr(args, n) for n in OVERRIDES if getattr(args, n) is not None}


def _arm_option(parser, plural: bool = False, **options) -> None:
    """--arm, or --arms for a comma-separated list."""
    s = "s" if plural else ""
    parser.add_argument(f"--arm{s}", dest=f"arm{s}", **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_runs(sub)
    _add_campaign(sub)
    _add_pack(sub)
    sub.add_parser("info", help="parameters and training FLOPs per image of every arm")
    _add_bench(sub)
    return parser


def _add_train(sub) -> None:
    """``train``: one (arm, seed), or several seeds, trained here or through the run notebook."""
    train = sub.add_parser("train", help="train one (arm, seed) and write its record")
    what = train.add_mutually_exclusive_group(required=True)
    _arm_option(what, choices=list(ARMS), metavar="ARM", help=f"one of: {', '.join(ARMS)}")
    what.add_argument(
        "--config-file",
        type=Path,
        help="JSON list of RunConfig dicts (what the runner passes): train exactly these",
    )
    which = train.add_mutually_exclusive_group()
    which.add_argument("--seed", type=int, default=0)
    which.add_argument("--seeds", type=_csv(int), help="several seeds: one record each")
    train.add_argument(
        "--engine",
        choices=["single", "fused"],
        default="single",
        help="fused: all --seeds as one wide model (direct executor only)",
    )
    train.add_argument("--profile", default="smoke", choices=list(PROFILES))
    where = train.add_mutually_exclusive_group()
    where.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR,
        help="results folder: each record at RESULTS/PROFILE/ARM/seed-K/record.json "
        "(default results/)",
    )
    where.add_argument(
        "--out",
        type=Path,
        help="a scratch folder for record.json instead (several seeds: OUT/seed-K)",
    )
    train.add_argument(
        "--executor",
        choices=["direct", "papermill"],
        default="direct",
        help="direct: train here; papermill: execute lib/runs/run.ipynb",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--checkpoint",
        type=Path,
        help="epoch checkpoint file (one seed, or the seeds of --engine fused): saved after "
        "every epoch, resumed from when it continues these configs, deleted once the records "
        "are in their run folders (with --out, the caller deletes it)",
    )
    train.add_argument(
        "--deadline",
        type=float,
        help=f"unix time at which to stop before a step that would end later "
        f"(exit {PAUSED_EXIT}, checkpoint kept; the runner sets it from --budget)",
    )
    _add_overrides(train)


def _add_runs(sub) -> None:
    """``runs``: a grid of (arm, seed): resumable, parallel, on a Dask cluster if given."""
    runs = sub.add_parser("runs", help="run a grid of (arm, seed): resumable, parallel")
    runs.add_argument("--profile", default="smoke", choices=list(PROFILES))
    _arm_option(runs, plural=True, type=_csv(str), help="comma-separated arms (default all)")
    runs.add_argument("--seeds", type=_csv(int), help="comma-separated seeds (default profile's)")
    runs.add_argument("--jobs", type=_positive, default=1, help="runs at once")
    runs.add_argument("--force", action="store_true", help="rerun complete runs too")
    runs.add_argument(
        "--executor",
        choices=["auto", "papermill", "direct"],
        default="auto",
        help="auto: papermill where Jupyter is installed, else direct",
    )
    runs.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    runs.add_argument(
        "--engine",
        choices=["auto", "single", "fused"],
        default="auto",
        help="auto: fused (several seeds as one wide model) on CUDA with --executor direct",
    )
    runs.add_argument("--seeds-at-once", type=_positive, default=10, help="fused group size")
    runs.add_argument("--results", type=Path, default=RESULTS_DIR)
    runs.add_argument(
        "--order",
        choices=["arm", "seed"],
        default="arm",
        help="arm: every seed of an arm in turn; seed: seed 0 of every arm (cheapest first), "
        "then seed 1 ... (balanced seed counts whenever the campaign stops)",
    )
    runs.add_argument(
        "--budget",
        type=parse_duration,
        help="time budget, e.g. 150m or 2.5h: no training step starts that cannot end "
        "within it; paused runs keep their checkpoint (inside an epoch if need be) and "
        "resume on the next call",
    )
    _add_overrides(runs)


def _add_campaign(sub) -> None:
    """``campaign``: the paper campaign in budgeted chunks from a clean worktree."""
    campaign = sub.add_parser(
        "campaign", help="the paper campaign in budgeted chunks from a clean worktree"
    )
    campaign.add_argument(
        "action",
        choices=["start", "status", "commit", "run"],
        help="start: the next chunk in the background (make campaign); status: where the "
        "plan stands; commit: commit complete clean-commit records; run: a chunk in the "
        "foreground (what start runs in the worktree)",
    )
    campaign.add_argument("--budget", default="150m", help="chunk length (default 150m)")
    campaign.add_argument(
        "--jobs",
        type=_positive,
        default=2,
        help="runs at once (default 2, one thread each; 1: one run on every core, for a "
        "long run that must finish within the chunk)",
    )
    campaign.add_argument(
        "--across-chunks",
        action="store_true",
        help="also start runs that cannot finish within the budget (if their next epoch "
        "fits): they pause at its end with their checkpoint and resume in the next chunk "
        "(only where the checkout's git-ignored checkpoints, or their spares outside it, "
        "survive until then)",
    )
    campaign.add_argument("--results", type=Path, default=RESULTS_DIR)


def _add_pack(sub) -> None:
    """``pack``: the paper grid packed for a machine without git or the dataset."""
    pack = sub.add_parser(
        "pack",
        help="write .remote/ (dataset, manifest of HEAD, run.sh) for the paper grid on a "
        "machine without git or the dataset (lib/runs/remote.py)",
    )
    _arm_option(
        pack,
        plural=True,
        type=_csv(str),
        # the full-resolution arms first: their runs cost several times the others' (make info)
        default=["resnet34_inception", "improved", "resnet34_lr", "resnet34", "resnet34_selu"],
        help="comma-separated arms, run in this order (default: the paper's five, the "
        "full-resolution ones first)",
    )
    pack.add_argument(
        "--seeds", type=_csv(int), default=list(range(10)), help="comma-separated (default 0-9)"
    )
    pack.add_argument(
        "--budget",
        default="8m",
        help="training time per call there (default 8m: a 10-minute call with room to pack)",
    )
    pack.add_argument("--device", default="cuda", help="default cuda (cpu: a rehearsal here)")
    pack.add_argument(
        "--seeds-at-once", type=_positive, default=10, help="fused group size there (default 10)"
    )
    pack.add_argument(
        "--profile",
        default="paper",
        choices=list(PROFILES),
        help="default paper (smoke: a rehearsal)",
    )


def _add_bench(sub) -> None:
    """``bench``: training throughput of lib's engines against the textbook loop."""
    bench = sub.add_parser(
        "bench", help="training images/s: lib's trainer vs a naive DataLoader loop (JSON)"
    )
    bench.add_argument(
        "--arms", type=_csv(str), default=["resnet34", "resnet34_inception"], help="comma-separated"
    )
    bench.add_argument("--repetitions", type=_positive, default=5, help="default 5")
    bench.add_argument(
        "--steps", type=_positive, default=6, help="timed steps per measurement (default 6)"
    )
    bench.add_argument(
        "--warmup", type=int, default=2, help="untimed steps before each (default 2)"
    )
    bench.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    bench.add_argument(
        "--fused-seeds",
        type=int,
        default=None,
        help="also time lib.training.fused with N seeds at once (default: 10 on CUDA, off on CPU)",
    )
    bench.add_argument("--out", type=Path, help="a .json file or a folder (default results/bench)")
