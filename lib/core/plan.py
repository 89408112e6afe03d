"""The paper campaign's plan: which arms and seeds run, in stages ordered by what each decides.

Torch-free, so that the report can count planned runs without the machinery that runs them
(``lib.runs.campaign`` orders and runs the plan).
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.core.arms import ARMS

PROFILE = "paper"
PAPER_ARMS = [name for name, arm in ARMS.items() if arm.paper_accuracy]


@dataclass(frozen=True)
class Stage:
    name: str
    arms: tuple[str, ...]
    seeds: tuple[int, ...]
    order: str = "seed"  # lib.runs.runner.plan: seed (balanced seed counts) or arm (arm by arm)


# Ordered by what each run decides, cheapest decisive runs first: every paper claim gets
# three seeds; the plain-stem control that tells resolution from Inception structure; the
# readings of what the paper leaves unstated, on the baseline (the absolute gap), arm by
# arm with augmentation first (as fast per image as the baseline, while batch 32's four times
# as many smaller steps make each epoch slower: each record holds its epoch times); the seeds
# Table 4 needs at its claimed effect (about 5 per arm);
# the cheap arms to ten seeds; then the rest of the paper's ten seeds.
CHEAP_ARMS = ("resnet34_selu", "resnet34", "resnet34_lr")
EXPENSIVE_ARMS = ("resnet34_inception", "improved")
READINGS = ("resnet34_augment", "resnet34_batch32")
STAGES = (
    Stage("1: paper arms, seeds 0-2", tuple(PAPER_ARMS), (0, 1, 2)),
    Stage("2: controls, seeds 0-2", ("resnet34_plainstem", "resnet34_projection"), (0, 1, 2)),
    Stage("3: readings of unstated details, seeds 0-2", READINGS, (0, 1, 2), order="arm"),
    Stage("4: Table 4 arms, seeds 3-4", EXPENSIVE_ARMS, (3, 4)),
    Stage("5: cheap paper arms, seeds 3-9", CHEAP_ARMS, tuple(range(3, 10))),
    Stage("6: Table 4 arms, seeds 5-9", EXPENSIVE_ARMS, tuple(range(5, 10))),
)


def planned_runs() -> list[tuple[str, int]]:
    """(arm, seed) of every run of every stage, stage after stage."""
    return [(arm, seed) for s in STAGES for seed in s.seeds for arm in s.arms]
