"""What the records are, in sentences: which results are shown, what is missing, how to rerun.

The banners on top of every chapter, the notes of the reproducibility and performance
chapters and the commands to rerun; ``lib.report.prose`` words what the results say.
"""

from __future__ import annotations

import platform
import sys

import pandas as pd

from lib.core.arms import ARMS
from lib.core.plan import PAPER_ARMS
from lib.report.architecture import TORCH_VERSION
from lib.report.formatting import folder_label, md_codes, protocol_phrase
from lib.report.provenance import commits
from lib.report.results import PROFILE_PREFERENCE, READY_SEEDS, Results


def _no_results(results: Results) -> bool:
    return results.profile is None or results.frame.empty


def banner(results: Results) -> str:
    """MyST admonition: which profile is shown and how complete it is."""
    if _no_results(results):
        name = results.profile or "any profile"
        return (
            ":::{admonition} No results to show\n:class: warning\n"
            f"There are no run records for {name} under `{folder_label(results.folder)}`, so "
            "every chapter below shows the paper's numbers and empty places for ours. Produce "
            "records with `make runs PROFILE=cpu` (or `python -m lib runs --profile cpu`) and "
            "rebuild with `make book`.\n:::\n"
        )
    c = results.completeness
    kind = "note" if c["done"] == c["planned"] and not c["failed"] else "important"
    lines = [
        f":::{{admonition}} Results shown: the {results.profile} profile\n:class: {kind}",
        f"{results.spec.description}. Compared with the paper: {protocol_phrase(results)}.",
        "",
        f"**{c['done']} of {c['planned']} planned runs complete** "
        f"({plan_phrase(results)}); {c['failed']} failed, "
        f"{c['stale']} stale, {c['invalid']} invalid, {c['malformed']} malformed. "
        f"The numbers come from {len(commits(results))} commit(s) of the code "
        "(see {doc}`reproducibility`).",
    ]
    if c["missing_arms"]:
        lines += ["", "Arms with no results yet: " + md_codes(c["missing_arms"])]
    if c["partial_arms"]:
        planned = c["planned_per_arm"]
        part = ", ".join(f"`{a}` ({c['per_arm'][a]}/{planned[a]})" for a in c["partial_arms"])
        lines += ["", f"Arms with fewer seeds than planned: {part}."]
    how = (
        "chosen with `PROFILE`/`BOOK_PROFILE`"
        if results.chosen_by_environment
        else "chosen automatically: the first of "
        + " > ".join(PROFILE_PREFERENCE)
        + f" whose {len(PAPER_ARMS)} paper arms have {READY_SEEDS} complete seeds each (else the "
        "first with records)"
    )
    others = [p for p in results.profiles_with_records if p != results.profile]
    lines += [
        "",
        f"Profile {how}. "
        + (f"Also available: {md_codes(others)}. " if others else "")
        + "Another profile: `make book PROFILE=<name>`.",
    ]
    lines.append(":::")
    return "\n".join(lines) + "\n"


def no_results_notice(results: Results) -> str:
    """Page one's only plumbing: how to produce records, when there are none."""
    return banner(results) if _no_results(results) else ""


def short_banner(results: Results) -> str:
    if _no_results(results):
        return ":::{warning}\nNo results yet: this chapter shows the paper's numbers only.\n:::\n"
    c = results.completeness
    partial = "Partial results" if c["done"] < c["planned"] else "Results"
    failed = f", {c['failed']} failed" if c["failed"] else ""
    return (
        f":::{{note}}\n{partial}, {protocol_phrase(results)}: {c['done']} of {c['planned']} "
        f"planned runs complete{failed}.\n:::\n"
    )


def chapters_profile_sentence(shown: Results) -> str:
    """For the paper-protocol page: which records the other chapters show, and why, in a
    reader's words (the profile's name only as the proxy's)."""
    if shown.profile == "paper":
        why = (
            "chosen when this site was built"
            if shown.chosen_by_environment
            else f"every paper arm has at least {READY_SEEDS} seeds"
        )
        return f"The other chapters show these runs ({why})."
    what = f"our reduced `{shown.profile}` proxy" if shown.profile else "no results"
    return f"Until every paper arm has {READY_SEEDS} seeds the other chapters show {what}."


def plan_phrase(results: Results) -> str:
    """What the planned runs are: the paper campaign's plan, or every arm at the profile's
    seeds (``lib.report.results.planned_runs``)."""
    if results.profile == "paper":
        return "the campaign's plan: the paper's arms at its 10 seeds, controls and readings at 3"
    return f"{len(ARMS)} arms × {len(results.spec.seeds)} seeds"


def missing_note(results: Results, arms: list[str]) -> str:
    """A sentence naming which of ``arms`` lack results (empty when all are complete)."""
    if results.spec is None:
        return "No results exist yet for any arm of this chapter."
    c = results.completeness
    per_arm, planned = c["per_arm"], c["planned_per_arm"]
    missing = [a for a in arms if per_arm.get(a, 0) == 0]
    partial = [a for a in arms if 0 < per_arm.get(a, 0) < planned.get(a, 0)]
    unplanned = [a for a in missing if not planned.get(a)]
    waiting = [a for a in missing if planned.get(a)]
    under = f" under the `{results.profile}` proxy" if results.reduced else ""
    parts = []
    if waiting:
        parts.append("no results yet for " + md_codes(waiting))
    if unplanned:
        where = " at the paper's protocol" if not results.reduced else ""
        parts.append(f"not planned{where}: {md_codes(unplanned)}")
    if partial:
        parts.append(
            "fewer seeds than planned for "
            + ", ".join(f"`{a}` ({per_arm[a]}/{planned[a]})" for a in partial)
        )
    if not parts:
        return f"All {len(arms)} arms here have all their planned seeds{under}."
    return f"Missing{under}: " + "; ".join(parts) + ". Cells without data say *no runs* / *n/a*."


# --- reproducibility ---------------------------------------------------------------------


def problems_text(problems: pd.DataFrame) -> str:
    """The line above ``provenance.problems_table``."""
    if problems.empty:
        return "No failed, stale, invalid or malformed records."
    invalid = int((problems["Status"] == "invalid").sum())
    return (
        f"{len(problems)} record(s) do not count towards the results; each with its file "
        "and reason"
        + (
            f". {invalid} of them are *invalid*: readable, but not holding together (a key "
            "that is not its config's, an accuracy outside [0, 100], a record in another "
            "run's folder, other data, or a copy of another run's losses)"
            if invalid
            else ""
        )
        + ":"
    )


def commits_text(results: Results) -> str:
    """From how many commits of the code the numbers come (``provenance.commits``)."""
    found = commits(results)
    if not found:
        return "No complete record yet, so no commit to name."
    dirty = sum(d for _, _, d in found)
    listed = ", ".join(f"`{c[:10]}` ({n} run{'s' * (n != 1)})" for c, n, _ in found)
    return (
        f"The numbers on this site come from {len(results.runs)} complete record(s) made "
        f"by {len(found)} commit(s) of the code: {listed}"
        + (f"; {dirty} of them from a modified working tree" if dirty else "")
        + "."
    )


def checks_text(checks: dict) -> str:
    """``provenance.data_checks``'s counts and normalisation constants, in words."""
    constants = "; ".join(f"{m:.6f}, {s:.6f}" for m, s in checks["normalisations"])
    return (
        f"{checks['agree']} of {checks['checked']} complete records name exactly these "
        "checksums for the data they trained and tested on. Normalisation constants in the "
        f"records (training-set mean, sd): {constants or 'none'}."
    )


def build_environment(results: Results) -> str:
    return (
        f"This page was built with Python {sys.version.split()[0]}, torch {TORCH_VERSION}, "
        f"pandas {pd.__version__} on {platform.platform()}, from results in "
        f"`{folder_label(results.folder)}`."
    )


def rerun_commands(results: Results) -> str:
    """The commands that rerun the shown profile (the cpu profile when there is none)."""
    profile = results.profile or "cpu"
    return f"""
```bash
# set-up on a fresh clone (virtual environment, dependencies), then Fashion-MNIST
make setup
make data                     # Debian package dataset-fashion-mnist, or set FASHION_MNIST_DIR
# one arm, all seeds of the {profile} profile (skips runs whose record is complete)
make runs PROFILE={profile} ARMS=resnet34_selu
# one run: arm x seed, printed as it trains
.venv/bin/python -m lib train --profile {profile} --arm resnet34_selu --seed 0
# everything the {profile} profile plans, two runs at a time on a CPU
make runs PROFILE={profile} JOBS=2
# on a GPU (CUDA is used automatically when present; --device makes it explicit)
.venv/bin/python -m lib runs --profile paper --device cuda
# on a Dask cluster: every worker needs this repository (set up) and Fashion-MNIST
.venv/bin/dask scheduler                                   # on one machine
.venv/bin/dask worker tcp://SCHEDULER-HOST:8786 --nthreads 1   # on each worker machine
.venv/bin/python -m lib runs --profile paper --scheduler tcp://SCHEDULER-HOST:8786
# (records come back to this machine's results/)
# rerun everything even when complete records exist
.venv/bin/python -m lib runs --profile {profile} --force
# rebuild this site from whatever is in results/ (no training)
make book PROFILE={profile}
```
"""


# --- performance -----------------------------------------------------------------------------


def runs_total(results: Results) -> str:
    if results.empty:
        return "No runs yet."
    hours = results.runs["wall_time_s"].sum() / 3600
    return (
        f"The {len(results.runs)} complete runs of the `{results.profile}` profile took "
        f"{hours:.1f} hours of wall time in total (runs may have shared the machine, so "
        "per-run throughput is a lower bound on what one run alone would reach)."
    )


def bench_text(results: Results) -> str:
    """How many benchmark files there are, and that GPU figures are missing when they are."""
    where = folder_label(results.folder / "bench")
    if not results.benches:
        text = (
            f"**No benchmark files** under `{where}`: run `python -m lib bench` "
            "(on each machine of interest) and rebuild. Only the run records' throughput is "
            "shown."
        )
    else:
        text = f"{len(results.benches)} benchmark file(s) under `{where}`:"
    if not any(b.get("machine", {}).get("device") == "cuda" for _, b in results.benches):
        text += (
            "\n\n**GPU figures are unmeasured**: no benchmark in these results was run on a "
            "CUDA device, so there are no GPU throughput or utilisation (MFU) numbers here."
        )
    return text
