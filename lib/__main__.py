"""Command line: ``python -m lib {train,runs,info,bench} ...`` (``--help`` on each)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lib import checkpoint, records
from lib.ablations import ARMS, PROFILES
from lib.budget import PAUSED_EXIT, Paused, parse_duration


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


def _overrides(args) -> dict:
    return {n: getattr(args, n) for n in OVERRIDES if getattr(args, n) is not None}


def _arm_option(parser, plural: bool = False, **options) -> None:
    """--arm (--arms), with the old spelling --ablation (--ablations) as an alias."""
    s = "s" if plural else ""
    parser.add_argument(f"--arm{s}", f"--ablation{s}", dest=f"arm{s}", **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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
    train.add_argument(
        "--out",
        type=Path,
        help="folder for record.json (default results/PROFILE/ARM/seed-K); "
        "with several seeds, OUT/seed-K",
    )
    train.add_argument(
        "--executor",
        choices=["direct", "papermill"],
        default="direct",
        help="direct: train here; papermill: execute lib/run.ipynb",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--checkpoint",
        type=Path,
        help="epoch checkpoint file (one seed, single engine): saved after every epoch, "
        "resumed from when it continues this config, deleted once the record is in results/ "
        "(with --out, the caller deletes it)",
    )
    train.add_argument(
        "--deadline",
        type=float,
        help=f"unix time at which to stop before an epoch that would end later "
        f"(exit {PAUSED_EXIT}, checkpoint kept; the runner sets it from --budget)",
    )
    _add_overrides(train)

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
    runs.add_argument("--results", type=Path, default=records.RESULTS_DIR)
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
        help="time budget, e.g. 150m or 2.5h: no epoch starts that cannot end within it; "
        "paused runs keep their checkpoint and resume on the next call",
    )
    _add_overrides(runs)

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
        help="also start runs that cannot finish within the budget: they pause at its end "
        "with their checkpoint and resume in the next chunk (only where the checkout, "
        "with its git-ignored checkpoints, survives until then)",
    )
    campaign.add_argument("--results", type=Path, default=records.RESULTS_DIR)

    sub.add_parser("info", help="parameters and training FLOPs per image of every arm")

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
        help="also time lib.fused with N seeds at once (default: 10 on CUDA, off on CPU)",
    )
    bench.add_argument("--out", type=Path, help="a .json file or a folder (default results/bench)")

    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "runs":
            return _runs(args, parser)
        if args.command == "campaign":
            return _campaign(args)
        if args.command == "info":
            return _info()
        if args.command == "bench":
            return _bench(args, parser)
    except (ValueError, KeyError, RuntimeError, OSError) as error:
        # One line, exit 2: a bad argument, an unusable device, an unreachable scheduler
        # (Dask raises OSError/TimeoutError), an unreadable file. KeyError's str() quotes.
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


def _device(name: str):
    """``lib.train.resolve_device``, and a CUDA ordinal this machine has: any unusable
    device is an error before compute (an index too high would fail only on first use)."""
    import torch

    from lib.train import resolve_device

    device = resolve_device(name)
    count = torch.cuda.device_count() if device.type == "cuda" else 0
    if device.type == "cuda" and device.index is not None and device.index >= count:
        raise ValueError(
            f"device {name!r} requested but this machine has {count} CUDA device(s)"
            + (f" (cuda:0 to cuda:{count - 1})" if count else "")
        )
    return device


def _check_scheduler(address: str, timeout: float = 10.0) -> None:
    """A Dask scheduler address that parses and, for TCP/TLS, accepts a connection:
    otherwise a ValueError naming the address and the problem, before any run starts."""
    import socket

    try:
        from distributed.comm import parse_address, parse_host_port
    except ImportError as error:
        raise ValueError(f"--scheduler needs dask.distributed installed ({error})") from error
    try:
        protocol, location = parse_address(address)
        host, port = parse_host_port(location, default_port=8786)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"--scheduler {address!r} is not a scheduler address like tcp://HOST:8786 ({error})"
        ) from error
    if protocol not in ("tcp", "tls"):
        return  # e.g. inproc://: the Dask client itself says whether it is there
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {error}") from error


def _runs_executor(args) -> str:
    """The executor ``runs`` will use; --engine fused needs one that runs without notebooks."""
    from lib.execute import jupyter_available

    executor = args.executor
    if executor == "auto":
        executor = "papermill" if jupyter_available() else "direct"
    if args.engine == "fused" and executor != "direct":
        chose = (
            " (auto chose papermill: Jupyter is installed here)" if args.executor == "auto" else ""
        )
        raise ValueError(f"--engine fused runs without notebooks: use --executor direct{chose}")
    return executor


def _train(args) -> int:
    from lib.ablations import run_config
    from lib.config import RunConfig
    from lib.execute import child_out_dir, run_notebook

    if args.config_file:
        configs = [RunConfig.from_dict(d) for d in json.loads(args.config_file.read_text())]
    else:
        overrides = _overrides(args)
        seeds = args.seeds or [args.seed]
        configs = [run_config(args.arm, args.profile, seed, **overrides) for seed in seeds]
    for device in sorted({c.device for c in configs}):
        _device(device)  # fail before any compute
    if args.engine == "fused" and args.executor != "direct":
        raise ValueError("--engine fused runs without notebooks: use --executor direct")
    if (args.checkpoint or args.deadline) and (len(configs) > 1 or args.engine == "fused"):
        raise ValueError("--checkpoint and --deadline take one seed on the single engine")
    resume = {"checkpoint": args.checkpoint and str(args.checkpoint), "deadline": args.deadline}

    def out_dir(config):
        if args.out is None:
            return records.record_path(
                records.RESULTS_DIR, config.profile, config.arm, config.seed
            ).parent
        return child_out_dir(args.out, config.seed, len(configs))

    if args.executor == "papermill":
        codes = [run_notebook(c, out_dir(c), quiet=args.quiet, **resume) for c in configs]
        return max(codes)
    if args.engine == "fused":
        from lib.fused import train_fused

        results = train_fused(configs, progress=not args.quiet)
    else:
        from lib.budget import Budget
        from lib.train import train

        budget = Budget(args.deadline) if args.deadline else None
        try:
            results = [
                train(c, progress=not args.quiet, checkpoint=args.checkpoint, budget=budget)
                for c in configs
            ]
        except Paused as paused:
            print(
                f"{configs[0].arm} seed {configs[0].seed}: {paused}; checkpoint {args.checkpoint}"
            )
            return PAUSED_EXIT
    for config, record in zip(configs, results, strict=True):
        record["executor"] = "direct"
        path = records.write_record(record, out_dir(config) / "record.json")
        if args.out is None and args.checkpoint and records.ended_by_training(record):
            checkpoint.discard(args.checkpoint)  # the record is in its place: resume no more
        print(
            f"{record['status']}: {config.arm} seed {config.seed} final test accuracy "
            f"{record['final_test_accuracy']} % -> {path}"
            + (f" ({record['reason']})" if record["reason"] else "")
        )
    return 0 if all(r["status"] == "complete" for r in results) else 1


def _runs(args, parser) -> int:
    from lib.budget import Budget
    from lib.campaign import chunk_summary
    from lib.runner import cpu_seconds_of_children, plan, run_batch, summarise

    for arm in args.arms or []:
        if arm not in ARMS:
            parser.error(f"unknown arm {arm!r}; known arms: {', '.join(ARMS)}")
    overrides = _overrides(args)
    if "device" in overrides:
        _device(overrides["device"])
    executor = _runs_executor(args)
    if args.scheduler:
        _check_scheduler(args.scheduler)
    outcomes = run_batch(
        args.profile,
        args.arms,
        args.seeds,
        jobs=args.jobs,
        force=args.force,
        executor=executor,
        scheduler=args.scheduler,
        engine=args.engine,
        seeds_at_once=args.seeds_at_once,
        results_dir=args.results,
        order=args.order,
        budget=Budget.starting_now(args.budget) if args.budget else None,
        **overrides,
    )
    print(summarise(outcomes))
    if args.budget:
        configs = plan(args.profile, args.arms, args.seeds, args.order, **overrides)
        print(chunk_summary(configs, outcomes, args.results, cpu_seconds_of_children()))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _campaign(args) -> int:
    from lib import campaign

    if args.action == "start":
        log = campaign.start(args.budget, args.results, args.jobs, args.across_chunks)
        print(f"chunk started in the background ({args.budget}); log: {log}")
    elif args.action == "status":
        print(campaign.status(args.results))
    elif args.action == "commit":
        print(campaign.commit(args.results))
    else:
        return campaign.run(
            parse_duration(args.budget), args.results, args.jobs, args.across_chunks
        )
    return 0


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


def _bench(args, parser) -> int:
    from lib.bench import log_stderr, run_bench, summary

    for arm in args.arms:
        if arm not in ARMS:
            parser.error(f"unknown arm {arm!r}; known arms: {', '.join(ARMS)}")
    device = _device(args.device)
    fused = args.fused_seeds
    if fused is None:
        fused = 10 if device.type == "cuda" else 0
    result, path = run_bench(
        arms=args.arms,
        repetitions=args.repetitions,
        steps=args.steps,
        warmup=args.warmup,
        device=args.device,
        out=args.out,
        fused_seeds=fused,
        log=log_stderr,
    )
    print(summary(result))
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
