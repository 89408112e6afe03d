"""A time budget for a chunk of the campaign: no training step starts that cannot end before it.

The runner turns ``--budget 150m`` into a deadline (a wall-clock instant) and hands it to
every run it starts; each run asks before every step whether it fits (after an epoch's last
step: with the evaluation) and, if not, checkpoints the steps done and stops cleanly
(``Paused``). The next chunk resumes it where it stopped, inside an epoch if need be.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600}
# An epoch's evaluation and checkpoint as a multiple of its training steps, where no
# evaluation has been timed yet: the run's first epoch (lib.training.loop) and the bench's
# train-only speeds (lib.runs.estimates). Measured: evaluation on 10,000 test images costs
# about 6 % of an epoch on 60,000 training images; the rest is slack.
EPOCH_MARGIN = 1.15


# Exit status of a run process that paused (sysexits' EX_TEMPFAIL: try again later)
PAUSED_EXIT = 75


class Paused(Exception):
    """The budget ends before the next step could finish: the run stops, resumable."""

    def __init__(self, epochs_done: float, epochs: int):
        super().__init__(f"paused after {epochs_done:.4g}/{epochs} epochs (time budget)")
        self.epochs_done, self.epochs = epochs_done, epochs


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``150m``, ``2.5h`` or a plain number of minutes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"budget must be a positive duration like 150m, 2.5h or 90s: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2) or "m"]


@dataclass(frozen=True)
class Budget:
    deadline: float  # time.time() at which the chunk must be done

    @classmethod
    def starting_now(cls, seconds: float) -> Budget:
        return cls(time.time() + seconds)

    def left(self) -> float:
        return self.deadline - time.time()

    def allows(self, seconds: float) -> bool:
        """Whether work expected to take ``seconds`` ends before the deadline."""
        return seconds <= self.left()
