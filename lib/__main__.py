"""Command line: ``python -m lib {train,runs,info} ...`` (``--help`` on each)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib import records
from lib.ablations import ARMS, PROFILES


def _csv(kind):
    return lambda text: [kind(item) for item in text.split(",") if item.strip()]


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=_positive, help="override the profile's epochs")
    parser.add_argument("--lr", type=float, help="override the base learning rate (1e-3)")
    parser.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--precision", choices=["bf16", "fp32"], help="default bf16")


def _overrides(args) -> dict:
    names = ("epochs", "lr", "device", "precision")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train one (arm, seed) and write its record")
    train.add_argument(
        "--ablation",
        required=True,
        choices=list(ARMS),
        metavar="ARM",
        help=f"one of: {', '.join(ARMS)}",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--profile", default="smoke", choices=list(PROFILES))
    train.add_argument(
        "--out", type=Path, help="folder for record.json (default results/PROFILE/ARM/seed-K)"
    )
    train.add_argument(
        "--executor",
        choices=["direct", "papermill"],
        default="direct",
        help="direct: train here; papermill: execute lib/run.ipynb",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_overrides(train)

    runs = sub.add_parser("runs", help="run a grid of (arm, seed): resumable, parallel")
    runs.add_argument("--profile", default="smoke", choices=list(PROFILES))
    runs.add_argument("--ablations", type=_csv(str), help="comma-separated arms (default all)")
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
    runs.add_argument("--results", type=Path, default=records.RESULTS_DIR)
    _add_overrides(runs)

    sub.add_parser("info", help="parameters and training FLOPs per image of every arm")

    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "runs":
            return _runs(args, parser)
        if args.command == "info":
            return _info()
    except (ValueError, KeyError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _train(args) -> int:
    from lib.ablations import run_config
    from lib.runner import run_notebook, run_one
    from lib.train import resolve_device

    overrides = _overrides(args)
    config = run_config(args.ablation, args.profile, args.seed, **overrides)
    resolve_device(config.device)  # fail before any compute
    out = (
        args.out
        or records.record_path(records.RESULTS_DIR, config.profile, config.arm, config.seed).parent
    )
    if args.executor == "papermill":
        return run_notebook(config, overrides, out, quiet=args.quiet)
    record = run_one(config, out, "direct", progress=not args.quiet)
    print(
        f"{record['status']}: final test accuracy {record['final_test_accuracy']} % -> "
        f"{out / 'record.json'}" + (f" ({record['reason']})" if record["reason"] else "")
    )
    return 0 if record["status"] == "complete" else 1


def _runs(args, parser) -> int:
    from lib.runner import run_batch, summarise
    from lib.train import resolve_device

    for arm in args.ablations or []:
        if arm not in ARMS:
            parser.error(f"unknown arm {arm!r}; known arms: {', '.join(ARMS)}")
    overrides = _overrides(args)
    if "device" in overrides:
        resolve_device(overrides["device"])
    outcomes = run_batch(
        args.profile,
        args.ablations,
        args.seeds,
        jobs=args.jobs,
        force=args.force,
        executor=args.executor,
        scheduler=args.scheduler,
        results_dir=args.results,
        **overrides,
    )
    print(summarise(outcomes))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _info() -> int:
    import pandas as pd

    from lib.ablations import run_config
    from lib.models import build_model, count_parameters, training_flops_per_image

    rows = []
    for name in ARMS:
        config = run_config(name, "paper", 0)
        rows.append(
            {
                "arm": name,
                "params": count_parameters(build_model(config)),
                "train GFLOP/image": round(training_flops_per_image(config) / 1e9, 3),
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
