"""The report's one door to the outside: environment variables, run records, benchmark files,
the repository's CITATION.cff.

``load()`` picks the folder (``$RESULTS_DIR``, else the repository's results/) and the
profile (``$BOOK_PROFILE``, else the first of paper > cpu > smoke with a record), reads
every record once through ``lib.analysis.results.load_results`` (metrics and provenance columns)
and returns a ``Results``; every other report module works on that object alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from lib.analysis import stats
from lib.analysis.results import complete, load_results
from lib.core import plan, records
from lib.core.arms import ARMS, PROFILES, Profile
from lib.core.plan import PAPER_ARMS
from lib.core.repo import REPO, RESULTS_DIR
from lib.report.claims import BASELINE, SHORT

PROFILE_PREFERENCE = ("paper", "cpu", "smoke")
READY_SEEDS = 3  # complete runs per paper arm before a profile leads the chapters
FINAL, BEST = "final", "best"  # which epoch of a run stands for it (see Results.values)
LAST_TWO = "last two"  # the mean of the last two epochs (a sensitivity endpoint)


def results_dir() -> Path:
    """``$RESULTS_DIR`` when set (tests, fixtures), else the repository's results/."""
    value = os.environ.get("RESULTS_DIR", "").strip()
    return Path(value).resolve() if value else RESULTS_DIR


def _chosen_profile() -> str:
    return os.environ.get("BOOK_PROFILE", "").strip()


def available_profiles(folder: Path | None = None) -> list[str]:
    """Profiles with at least one record.json under ``folder``, in order of preference."""
    folder = Path(folder) if folder is not None else results_dir()
    return [
        p for p in PROFILE_PREFERENCE if next(Path(folder, p).glob("*/seed-*/record.json"), None)
    ]


def ready(profile: str, folder: Path | None = None) -> bool:
    """Whether every arm with a paper number has ``READY_SEEDS`` complete runs: enough for
    the chapters to compare each claim (a profile still short of it is shown on its own
    page, beside the chapters' profile, never in its place)."""
    folder = Path(folder) if folder is not None else results_dir()
    runs = complete(load_results(profile, folder))
    counts = runs["arm"].value_counts()
    return all(counts.get(arm, 0) >= READY_SEEDS for arm in PAPER_ARMS)


def pick_profile(folder: Path | None = None) -> str | None:
    """``$BOOK_PROFILE`` if set, else the first of paper > cpu > smoke that is ``ready``,
    else the first with a record; None if nothing."""
    chosen = _chosen_profile()
    if chosen:
        if chosen not in PROFILES:
            raise ValueError(
                f"BOOK_PROFILE={chosen!r} is not a profile; known: {', '.join(PROFILES)}"
            )
        return chosen
    found = available_profiles(folder)
    return next((p for p in found if ready(p, folder)), found[0] if found else None)


@dataclass
class Results:
    """One profile's records and how its epochs map onto the paper's."""

    profile: str | None  # None: no results anywhere
    folder: Path
    frame: pd.DataFrame  # every record, any status (lib.analysis.results.load_results)
    chosen_by_environment: bool = False  # $BOOK_PROFILE named the profile
    profiles_with_records: list[str] = field(default_factory=list)

    @cached_property
    def runs(self) -> pd.DataFrame:
        return complete(self.frame)

    @property
    def spec(self) -> Profile | None:
        return PROFILES.get(self.profile) if self.profile else None

    @property
    def model_profile(self) -> str:
        """The profile whose models the chapters describe: ours, else the paper's."""
        return self.profile or "paper"

    @property
    def empty(self) -> bool:
        return self.runs.empty

    @property
    def reduced(self) -> bool:
        """True unless the results follow the paper's protocol."""
        return self.profile != "paper"

    def horizon(self, paper_epochs: int = SHORT) -> int:
        """Our epoch that stands for the paper's ``paper_epochs`` (10 -> E, 20 -> 2E)."""
        epochs = self.spec.epochs if self.spec else SHORT
        return paper_epochs * epochs // SHORT

    def available(self, arm: str, paper_epochs: int = SHORT) -> bool:
        return paper_epochs == SHORT or ARMS[arm].long_horizon

    def in_precision(self, precision: str) -> Results:
        """The same results with only the records trained in ``precision`` (bf16 or fp32)."""
        return dataclasses.replace(self, frame=self.frame[self.frame["precision"] == precision])

    def arm_runs(self, arm: str) -> pd.DataFrame:
        return self.runs[self.runs["arm"] == arm]

    def values(self, arm: str, paper_epochs: int = SHORT, reading: str = FINAL) -> pd.Series:
        """Test accuracy (%) at the paper's ``paper_epochs``, indexed by seed.

        ``final``: the accuracy after that epoch (the primary number); ``best``: the best
        epoch up to it (optimistic: selected on the test set); ``last two``: the mean of
        that epoch and the one before (constant-LR runs swing from epoch to epoch).
        """
        h = self.horizon(paper_epochs)
        pick = {FINAL: lambda a: a[-1], BEST: max, LAST_TWO: lambda a: np.mean(a[-2:])}[reading]
        runs = self.arm_runs(arm) if self.available(arm, paper_epochs) else self.runs[:0]
        reached = [
            (int(s), a[:h])
            for s, a in zip(runs["seed"], runs["test_accuracy"], strict=True)
            if len(a) >= h
        ]
        seeds = pd.Index([s for s, _ in reached], dtype=int, name="seed")
        if not seeds.is_unique:  # one record per (arm, seed) folder: never two
            raise ValueError(f"{arm}: two complete records of one seed in {self.folder}")
        return pd.Series([pick(a) for _, a in reached], index=seeds, dtype=float)

    def summary(self, arm: str, paper_epochs: int = SHORT, reading: str = FINAL):
        return stats.summarise(self.values(arm, paper_epochs, reading))

    def compare(
        self,
        arm: str,
        baseline: str = BASELINE,
        paper_epochs: int = SHORT,
        reading: str = FINAL,
        baseline_epochs: int | None = None,
    ) -> stats.Comparison:
        return stats.welch(
            self.values(arm, paper_epochs, reading),
            self.values(baseline, baseline_epochs or paper_epochs, reading),
        )

    @cached_property
    def completeness(self) -> dict:
        """Runs done of those planned (``planned_runs``: one definition for every page),
        per arm and in all, and the records left out by status."""
        planned = planned_runs(self.profile)
        done = {(a, int(s)) for a, s in zip(self.runs["arm"], self.runs["seed"], strict=True)}
        counts = self.frame["status"].value_counts()
        per_arm = {arm: len([1 for a, _ in done & planned if a == arm]) for arm in ARMS}
        planned_per_arm = {arm: len([1 for a, _ in planned if a == arm]) for arm in ARMS}
        return {
            "planned": len(planned),
            "done": len(done & planned),
            "failed": int(counts.get("failed", 0)),
            "stale": int(counts.get("stale", 0)),
            "malformed": int(counts.get("malformed", 0)),
            "invalid": int(counts.get("invalid", 0)),
            "seeds": len(self.spec.seeds) if self.spec else 0,
            "per_arm": per_arm,
            "planned_per_arm": planned_per_arm,
            "missing_arms": [a for a, n in per_arm.items() if n == 0 < planned_per_arm[a]],
            "partial_arms": [a for a, n in per_arm.items() if 0 < n < planned_per_arm[a]],
        }

    @cached_property
    def epoch_losses(self) -> pd.DataFrame:
        """Per complete run and epoch: the mean training loss and the test loss (read from
        the records: ``lib.analysis.results``' frame carries accuracies only)."""
        rows = [
            {"arm": arm, "seed": seed, **{k: e[k] for k in ("epoch", "train_loss", "test_loss")}}
            for arm, seed, path in zip(
                self.runs["arm"], self.runs["seed"], self.runs["path"], strict=True
            )
            for e in records.read_record(Path(path))["epochs"]
        ]
        return pd.DataFrame(rows, columns=["arm", "seed", "epoch", "train_loss", "test_loss"])

    @cached_property
    def benches(self) -> list[tuple[Path, dict]]:
        """The benchmark files (``python -m lib bench``) under the folder's bench/."""
        out = []
        for path in sorted(Path(self.folder, "bench").glob("*.json")):
            try:
                out.append((path, json.loads(path.read_text())))
            except (OSError, ValueError):
                continue
        return out


def planned_runs(profile: str | None) -> set[tuple[str, int]]:
    """(arm, seed) of every planned run: the paper campaign's plan (``lib.core.plan``) for
    the paper's protocol, every arm and seed of the profile for a reduced one."""
    if profile == "paper":
        return set(plan.planned_runs())
    seeds = PROFILES[profile].seeds if profile in PROFILES else ()
    return {(arm, seed) for arm in ARMS for seed in seeds}


def load(profile: str | None = None, folder: Path | None = None) -> Results:
    """The results the book shows (see ``pick_profile`` and ``results_dir``)."""
    folder = Path(folder) if folder is not None else results_dir()
    if profile is None:
        profile = pick_profile(folder)
    return Results(
        profile,
        folder,
        load_results(profile or "none", folder),
        chosen_by_environment=bool(_chosen_profile()),
        profiles_with_records=available_profiles(folder),
    )


def every_profile(folder: Path) -> dict[str, pd.DataFrame]:
    """Every profile's records (any status) under ``folder``: the compute they spent."""
    frames = {profile: load_results(profile, folder) for profile in PROFILES}
    return {profile: frame for profile, frame in frames.items() if not frame.empty}


def campaign_left(folder: Path) -> pd.DataFrame:
    """The paper campaign's plan: each run's state and estimated core-hours left."""
    from lib.runs import campaign  # git and worktrees: only when the summary asks

    return campaign.table(campaign.campaign_plan(), folder)


def citation_metadata(path: Path = REPO / "CITATION.cff") -> dict:
    """The repository's citation file (title, authors, ...) for the page that says how to
    cite the report."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
