"""Command line: ``python -m lib {train,runs,campaign,pack,info,bench} ...`` (``--help`` on each);
the grammar is ``lib.cli``, what each command does is here."""

from __future__ import annotations

import contextlib
import json
import signal
import sys

from lib.cli import build_parser, config_overrides
from lib.core import records
from lib.core.arms import ARMS
from lib.core.repo import REPO
from lib.training import checkpoint
from lib.training.budget import PAUSED_EXIT, Paused, parse_duration


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "runs":
            return _runs(args, parser)
        if args.command == "campaign":
            return _campaign(args)
        if args.command == "pack":
            return _pack(args, parser)
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


def _pack(args, parser) -> int:
    from lib.runs.remote import pack

    for arm in args.arms:
        if arm not in ARMS:
            parser.error(f"unknown arm {arm!r}; known arms: {', '.join(ARMS)}")
    parse_duration(args.budget)  # a bad budget fails here, not on the device
    script = pack(args.arms, args.seeds, args.budget, args.device, args.profile, args.seeds_at_once)
    print(f"wrote {script.parent}; on the device machine: bash {script.relative_to(REPO)}")
    return 0


def _device(name: str):
    """``lib.training.train.resolve_device``, and a CUDA ordinal this machine has: any unusable
    device is an error before compute (an index too high would fail only on first use)."""
    import torch

    from lib.training.train import resolve_device

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
    from lib.runs.execute import jupyter_available

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
    from lib.core.arms import run_config
    from lib.core.config import RunConfig, run_name
    from lib.runs.execute import child_out_dir, run_notebook

    if args.config_file:
        configs = [RunConfig.from_dict(d) for d in json.loads(args.config_file.read_text())]
    else:
        overrides = config_overrides(args)
        seeds = args.seeds or [args.seed]
        configs = [run_config(args.arm, args.profile, seed, **overrides) for seed in seeds]
    for device in sorted({c.device for c in configs}):
        _device(device)  # fail before any compute
    if args.engine == "fused" and args.executor != "direct":
        raise ValueError("--engine fused runs without notebooks: use --executor direct")
    if (args.checkpoint or args.deadline) and len(configs) > 1 and args.engine != "fused":
        raise ValueError("--checkpoint and --deadline take one seed, or seeds fused as one")
    resume = {"checkpoint": args.checkpoint and str(args.checkpoint), "deadline": args.deadline}

    def out_dir(config):
        if args.out is None:
            return records.record_path(args.results, config.profile, config.arm, config.seed).parent
        return child_out_dir(args.out, config.seed, len(configs))

    if args.executor == "papermill":
        codes = [run_notebook(c, out_dir(c), quiet=args.quiet, **resume) for c in configs]
        return max(codes)
    from lib.training.budget import Budget

    budget = Budget(args.deadline) if args.deadline else None
    try:
        if args.engine == "fused":
            from lib.training.fused import train_fused

            results = train_fused(
                configs, progress=not args.quiet, checkpoint=args.checkpoint, budget=budget
            )
        else:
            from lib.training.train import train

            results = [
                train(c, progress=not args.quiet, checkpoint=args.checkpoint, budget=budget)
                for c in configs
            ]
    except Paused as paused:
        print(f"{run_name(configs)}: {paused}; checkpoint {args.checkpoint}")
        return PAUSED_EXIT
    for config, record in zip(configs, results, strict=True):
        record["executor"] = "direct"
        path = records.write_record(record, out_dir(config) / "record.json")
        print(
            f"{record['status']}: {run_name(config)} final test accuracy "
            f"{record['final_test_accuracy']} % -> {path}"
            + (f" ({record['reason']})" if record["reason"] else "")
        )
    if args.out is None and args.checkpoint and all(map(records.ended_by_training, results)):
        checkpoint.discard(args.checkpoint)  # the records are in their place: resume no more
    return 0 if all(r["status"] == "complete" for r in results) else 1


def _runs(args, parser) -> int:
    from lib.runs.campaign import chunk_summary
    from lib.runs.runner import cpu_seconds_of_children, plan, run_batch, summarise
    from lib.training.budget import Budget

    for arm in args.arms or []:
        if arm not in ARMS:
            parser.error(f"unknown arm {arm!r}; known arms: {', '.join(ARMS)}")
    overrides = config_overrides(args)
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
    from lib.runs import campaign

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

    from lib.core.arms import run_config
    from lib.model.resnet import build_model, count_parameters, training_flops_per_image

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
    from lib.training.bench import log_stderr, run_bench, summary

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


def stop_with_descendants(signum, frame) -> None:
    """On SIGTERM or SIGHUP: end every process this one started, then exit. A batch's run
    processes and their Jupyter kernels (which sit in sessions of their own) would
    otherwise go on training, and writing the run's checkpoint, after the batch that
    holds the run's lock is gone."""
    import psutil

    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    raise SystemExit(128 + signum)


def install_stop_handlers() -> None:
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, stop_with_descendants)


if __name__ == "__main__":
    install_stop_handlers()
    sys.exit(main())
