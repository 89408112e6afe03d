"""Where and how the results were made: every record, its environment and data, throughput."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import pandas as pd

from lib.analysis import stats
from lib.core.arms import ARMS
from lib.core.dataset import FILES
from lib.report.formatting import (
    code,
    commit_html,
    finite,
    made_by,
    mean_sd,
    num,
    table_html,
    verdict_html,
)
from lib.report.results import Results

# Table column -> the frame's provenance column (lib.analysis.results).
ENVIRONMENT = {
    "Python": "python",
    "torch": "torch",
    "torchvision": "torchvision",
    "CUDA build": "cuda",
    "Device": "device_name",
    "Threads": "torch_threads",
    "Host": "host",
    "Platform": "platform",
    "Precision": "precision",
}


@made_by
def runs_table(results: Results) -> pd.DataFrame:
    """Every record of the profile, whatever its status."""
    rows = []
    for _, r in results.frame.iterrows():
        commit = r["git_commit"] if isinstance(r["git_commit"], str) else ""
        rows.append(
            {
                "Arm": code(r["arm"]),
                "Seed": r["seed"],
                "Status": verdict_html(r["status"]) if r["status"] != "complete" else "complete",
                "Epochs": r["epochs_run"] if finite(r["epochs_run"]) else "n/a",
                "Final acc. (%)": num(r["final_test_accuracy"]),
                "Best acc. (%)": num(r["best_test_accuracy"]),
                "Wall time (s)": num(r["wall_time_s"], 0),
                "Device": html.escape(str(r["device_name"] or "n/a")),
                "Precision": r["precision"] or "n/a",
                "Executor": r["executor"] or "n/a",
                "Commit": commit_html(commit, r["git_dirty"]),
            }
        )
    return pd.DataFrame(rows)


@made_by
def problems_table(results: Results) -> pd.DataFrame:
    """Failed, stale, invalid and malformed records: each file with its reason."""
    f = results.frame[results.frame["status"] != "complete"]
    return pd.DataFrame(
        {
            "Record": [code(_relative(p, results.folder)) for p in f["path"]],
            "Arm": [code(str(a)) for a in f["arm"]],
            "Seed": list(f["seed"]),
            "Status": list(f["status"]),
            "Reason": [html.escape(str(x).replace(f"{results.folder}/", "")) for x in f["reason"]],
        }
    )


def _relative(path: str, folder: Path) -> str:
    """A record's path under the results folder (as it is when it lies elsewhere)."""
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return str(path)


def commits(results: Results) -> list[tuple[str, int, int]]:
    """(commit, complete runs, of them from a modified tree) behind the numbers, by runs."""
    runs = results.runs
    found = Counter(str(c) for c in runs["git_commit"])
    dirty = Counter(str(c) for c, d in zip(runs["git_commit"], runs["git_dirty"], strict=True) if d)
    return [(c, n, dirty[c]) for c, n in sorted(found.items(), key=lambda x: (-x[1], x[0]))]


@made_by
def environments_table(results: Results) -> pd.DataFrame:
    """The distinct environments the records were made in, with how many runs each."""
    readable = results.frame[results.frame["status"] != "malformed"]
    counts = Counter(readable[list(ENVIRONMENT.values())].itertuples(index=False, name=None))
    frame = pd.DataFrame(
        [dict(zip(ENVIRONMENT, key, strict=True), Runs=n) for key, n in counts.items()]
    )
    return frame if len(frame) else pd.DataFrame(columns=[*ENVIRONMENT, "Runs"])


def normalisations(results: Results) -> list[tuple[float, float]]:
    """The distinct (mean, sd) normalisation constants of the complete runs."""
    found = {(round(n["mean"], 6), round(n["std"], 6)) for n in results.runs["normalisation"] if n}
    return sorted(found)


def data_checks(results: Results) -> tuple[pd.DataFrame, dict]:
    """Fashion-MNIST checksums (lib.model.data) and whether every record used exactly those
    files."""
    table = pd.DataFrame(
        [
            {"File": name, "SHA-256 (decompressed)": f"<code>{sha}</code>", "Bytes": f"{size:,}"}
            for name, (sha, size) in FILES.items()
        ]
    )
    expected = {name: sha for name, (sha, _) in FILES.items()}
    used = list(results.runs["dataset_sha256"])
    return table, {
        "checked": len(used),
        "agree": sum(sha == expected for sha in used),
        "normalisations": normalisations(results),
    }


@made_by
def throughput_table(results: Results) -> pd.DataFrame:
    """Training images per second of each arm's complete runs, from the records."""
    rows = []
    for arm in ARMS:
        r = results.arm_runs(arm)
        if r.empty:
            continue
        s = stats.summarise(list(r["images_per_s"]))
        rows.append(
            {
                "Arm": code(arm),
                "Runs": s.n,
                "Images/s (mean ± sd)": mean_sd(s, 0),
                "Wall time per run (s, mean)": num(float(r["wall_time_s"].mean()), 0),
                "Device": html.escape(", ".join(sorted(set(map(str, r["device_name"]))))),
                "Precision": ", ".join(sorted(set(map(str, r["precision"])))),
            }
        )
    return pd.DataFrame(rows)


def bench_tables(path: Path, bench: dict) -> dict[str, pd.DataFrame]:
    """One benchmark file (``python -m lib bench``) as its machine, throughput, speed-ups, GPU."""
    m, proto = bench.get("machine", {}), bench.get("protocol", {})
    machine = pd.DataFrame(
        [
            {
                "File": html.escape(path.name),
                "Created": bench.get("created_at"),
                "Device": f"{m.get('device')}: {html.escape(str(m.get('device_name')))}",
                "CPUs": m.get("cpu_count"),
                "torch": m.get("torch"),
                "Commit": commit_html(bench.get("git_commit"), bench.get("git_dirty")),
                "Protocol": ", ".join(f"{k} {v}" for k, v in proto.items()),
            }
        ]
    )
    results = pd.DataFrame(
        [
            {
                "Arm": code(r.get("arm", "")),
                "Engine": r.get("engine"),
                "Precision": r.get("precision"),
                "channels_last": r.get("channels_last"),
                "Compiled": r.get("compiled"),
                "Seeds at once": r.get("seeds_at_once"),
                "Median images/s": num(r.get("median_images_per_s"), 0),
                "Repetitions (images/s)": ", ".join(num(x, 0) for x in r.get("images_per_s", [])),
            }
            for r in bench.get("results", [])
        ]
    )
    ratios = pd.DataFrame(
        [
            {
                "Arm": code(r.get("arm", "")),
                "Speed-up": f"{r.get('numerator')} / {r.get('denominator')}",
                "Median": num(r.get("median"), 2) + "×",
                "Per repetition": ", ".join(num(x, 2) for x in r.get("per_repetition", [])),
            }
            for r in bench.get("ratios", [])
        ]
    )
    tables = {"machine": machine, "results": results, "ratios": ratios}
    gpu = bench.get("gpu")
    if gpu:
        tables["gpu"] = pd.DataFrame(
            [
                {
                    "Arm": code(arm),
                    "MFU": f"{100 * v:.1f} %",
                    "bf16 peak (TFLOP/s)": num(gpu.get("bf16_matmul_peak_tflops"), 0),
                }
                for arm, v in (gpu.get("mfu") or {}).items()
            ]
        )
    return tables


BENCH_SECTIONS = {
    "machine": "Machine and protocol",
    "results": "Throughput",
    "ratios": "Speed-ups",
    "gpu": "GPU utilisation",
}


def benches_html(results: Results) -> str:
    """Every benchmark file's tables under its name (an empty paragraph when there is none)."""
    parts = []
    for path, bench in results.benches:
        tables = bench_tables(path, bench)
        parts.append(f"<h3>{path.name}</h3>")
        for key, title in BENCH_SECTIONS.items():
            if key in tables and len(tables[key]):
                parts.append(f"<p><strong>{title}</strong></p>" + table_html(tables[key]))
    return "\n".join(parts) if parts else "<p></p>"
