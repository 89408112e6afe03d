"""The paper's claims as data: what each table compares, what its figures say, what it leaves open.

The paper's accuracies themselves are kept in ``lib.core.arms`` (one place); this module
says which of them are claims, how they pair into improvements, which qualitative claims
Figs 4-6 make and which arms stand for each reading of the paper's ambiguities.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.core.arms import ARMS
from lib.core.config import RunConfig

BASELINE = "resnet34"
# The paper's tables and the arm each one adds to the baseline.
TABLE_ARMS = {2: "resnet34_lr", 3: "resnet34_selu", 4: "resnet34_inception", 5: "improved"}
SHORT, LONG = sorted(ARMS[BASELINE].paper_accuracy)  # the paper's 10 and 20 epochs


def paper_epochs(arm: str) -> list[int]:
    """The epoch counts at which the paper reports ``arm``'s accuracy."""
    return sorted(ARMS[arm].paper_accuracy)


def paper_accuracy(arm: str, epochs: int) -> float | None:
    return ARMS[arm].paper_accuracy.get(epochs)


def paper_diff(arm: str, epochs: int, baseline: str = BASELINE) -> float:
    return ARMS[arm].paper_accuracy[epochs] - ARMS[baseline].paper_accuracy[epochs]


def accuracy_claims() -> list[tuple[str, str, int, float]]:
    """Every accuracy the paper reports: (table, arm, epochs, accuracy)."""
    out = []
    for e in paper_epochs(BASELINE):  # in every table that reports e epochs
        tables = [str(t) for t, arm in TABLE_ARMS.items() if e in paper_epochs(arm)]
        label = f"{tables[0]}–{tables[-1]}" if len(tables) > 1 else tables[0]
        out.append((label, BASELINE, e, paper_accuracy(BASELINE, e)))
    for table, arm in TABLE_ARMS.items():
        out += [(str(table), arm, e, paper_accuracy(arm, e)) for e in paper_epochs(arm)]
    return out


def improvement_claims() -> list[tuple[str, str, int, float]]:
    """Every improvement over the baseline: (table, arm, epochs, the paper's difference)."""
    return [
        (str(table), arm, e, paper_diff(arm, e))
        for table, arm in TABLE_ARMS.items()
        for e in paper_epochs(arm)
    ]


# What each improvement claim is about, in plain words (page one's answer).
CHANGE_NAMES = {
    "resnet34_lr": "learning-rate decay",
    "resnet34_selu": "SELU instead of ReLU",
    "resnet34_inception": "the Inception stem",
    "improved": "all four changes together",
}


def claim_name(arm: str, epochs: int) -> str:
    """'learning-rate decay at 20 epochs' where the paper reports the arm at two lengths."""
    name = CHANGE_NAMES[arm]
    return f"{name} at {epochs} epochs" if len(paper_epochs(arm)) > 1 else name


# --- Figs 4-6: claims with a direction but no number ------------------------------------

# One measure per claim, stated before any number; both fall when the claim holds.
REACH = "iterations until the smoothed loss first reaches the common level"
LOG_SD = "sd of the log training loss over the last epoch"
# A second measure, a sensitivity analysis that never replaces the first: the fluctuation a
# linear plot like the paper's shows, which a lower loss level shrinks by itself.
RAW_SD = "sd of the training loss (not its log) over the last epoch"
SECOND_MEASURE = {LOG_SD: RAW_SD}


@dataclass(frozen=True)
class ConvergenceClaim:
    figure: str
    arm: str
    baseline: str
    paper_epochs: int  # the run length the figure shows, in the paper's epochs
    measure: str  # REACH ("faster") or LOG_SD ("less fluctuation"; lib.report.convergence)
    claim: str


CONVERGENCE_CLAIMS = [
    ConvergenceClaim("4–5", "resnet34_lr", BASELINE, LONG, REACH, "LR decay converges faster"),
    ConvergenceClaim("4–5", "resnet34_lr", BASELINE, LONG, LOG_SD, "LR decay fluctuates less"),
    ConvergenceClaim("6", "resnet34_selu", BASELINE, SHORT, REACH, "SELU converges (much) faster"),
]


# --- the paper's ambiguities and the arm that stands for each reading --------------------


@dataclass(frozen=True)
class Reading:
    ambiguity: str
    template: str  # may name RunConfig's lr_gamma and lr_step_epochs
    arm: str
    default: bool  # our reading, the one the table arms use

    @property
    def label(self) -> str:
        config = RunConfig()
        return self.template.format(gamma=config.lr_gamma, step=config.lr_step_epochs)


READINGS = [
    Reading("Baseline stem", "7×7/2 conv + 3×3/2 max-pool → 7×7 (ours)", "resnet34", True),
    Reading("Baseline stem", "7×7/2 conv, no max-pool → 14×14", "resnet34_nopool", False),
    Reading("Baseline stem", "one 3×3/1 conv (CIFAR-style) → 28×28", "resnet34_plainstem", False),
    Reading("Inception stem", "stride 1, no pool → 28×28 (ours)", "resnet34_inception", True),
    Reading("Inception stem", "stride 2 + 3×3/2 max-pool → 7×7", "resnet34_inception_s2", False),
    Reading("LR decay", "exponential, ×{gamma:g} per epoch (ours)", "resnet34_lr", True),
    Reading("LR decay", "step, ×0.1 every {step} epochs", "resnet34_lr_step", False),
    Reading("LR decay", "cosine to 0 over the run (run length only)", "resnet34_lr_cosine", False),
]
BASELINE_READINGS = ["resnet34", "resnet34_nopool", "resnet34_plainstem"]


# --- beyond the paper: single changes it never tested alone (exploratory) ------------------

SINGLE_CHANGES = {  # arm -> the one thing it changes in the baseline
    "resnet34_projection": "the projection shortcut alone, the paper's improvement 1",
    "resnet34_plainstem": "a plain 3×3/1 stem at full 28×28 resolution, without Inception",
    "resnet34_nopool": "the 7×7 stem without its max-pool (14×14)",
    "resnet34_inception_s2": "the Inception stem at the baseline's 7×7 resolution",
}
