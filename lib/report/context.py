"""Where the paper's numbers stand among published Fashion-MNIST results (cited, not run).

The results are those submitted to the benchmark table of the dataset's authors (README of
github.com/zalandoresearch/fashion-mnist, section "Benchmark"), which says they were not
tested by the authors. Each row names its preprocessing as submitted: augmentation (random
crops, flips, translations, rotations) or none; the paper states none.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lib.report.claims import BASELINE, SHORT, paper_accuracy
from lib.report.formatting import made_by, num
from lib.report.results import Results

SOURCE = (
    "the benchmark table of the dataset's authors, [github.com/zalandoresearch/fashion-mnist]"
    "(https://github.com/zalandoresearch/fashion-mnist#benchmark) (submitted results, "
    "“not yet tested” by the authors)"
)
DATASET = (
    "Han Xiao, Kashif Rasul, Roland Vollgraf. *Fashion-MNIST: a Novel Image Dataset for "
    "Benchmarking Machine Learning Algorithms.* "
    "[arXiv:1708.07747](https://arxiv.org/abs/1708.07747), 2017"
)


@dataclass(frozen=True)
class Published:
    model: str
    augmented: bool  # trained with augmented images (as submitted)
    accuracy: float  # test accuracy, % (the table gives fractions to 3 digits)
    preprocessing: str


CROPS = "mean/sd; random crops, horizontal flips"
PUBLISHED = [
    Published("WRN40-4, 8.9M parameters", True, 96.7, CROPS),
    Published("WRN-28-10 + random erasing", True, 96.3, CROPS),
    Published("WRN-28-10", True, 95.9, CROPS),
    Published("DenseNet-BC, 768K parameters", True, 95.4, CROPS),
    Published("MobileNet", True, 95.0, "horizontal flips"),
    Published("ResNet18", True, 94.9, "normalisation; flips, translation, rotation"),
    Published("GoogleNet, cross-entropy loss", False, 93.7, "none"),
    Published("VGG16, 26M parameters", False, 93.5, "none"),
    Published("2 conv + 3 FC layers, 1.8M parameters", False, 93.2, "normalisation"),
    Published("2 conv layers, <100K parameters", False, 92.5, "none"),
    Published("Human, no fashion expertise (1,000 test images)", False, 83.5, "—"),
]


@made_by
def published_table(ours: Results | None = None) -> pd.DataFrame:
    """The published results with the paper's baseline and improved model among them, and
    ours (``ours``: records at the paper's protocol, final-epoch means) where they exist."""
    rows = [
        {
            "Model": p.model,
            "Augmentation": "yes" if p.augmented else "no",
            "Preprocessing (as submitted)": p.preprocessing,
            "Test accuracy (%)": p.accuracy,
            "shown": f"{p.accuracy:.1f}",  # as given: three digits of a fraction
        }
        for p in PUBLISHED
    ]
    for arm, label in ((BASELINE, "the paper's ResNet-34"), ("improved", "the paper's improved")):
        rows.append(
            {
                "Model": f"<strong>{label}, {SHORT} epochs</strong>",
                "Augmentation": "not stated",
                "Preprocessing (as submitted)": "not stated",
                "Test accuracy (%)": paper_accuracy(arm, SHORT),
                "shown": f"<strong>{num(paper_accuracy(arm, SHORT))}</strong>",
            }
        )
    for arm, label in ((BASELINE, "our ResNet-34"), ("improved", "our improved")):
        s = ours.summary(arm) if ours is not None and not ours.empty else None
        if s is None or not s.n:
            continue
        rows.append(
            {
                "Model": f"<em>{label}, {SHORT} epochs ({s.n} seeds, the paper's protocol)</em>",
                "Augmentation": "no",
                "Preprocessing (as submitted)": "mean/sd",
                "Test accuracy (%)": s.mean,
                "shown": f"<em>{num(s.mean)}</em>",
            }
        )
    table = pd.DataFrame(rows).sort_values("Test accuracy (%)", ascending=False)
    table["Test accuracy (%)"] = table.pop("shown")
    return table.reset_index(drop=True)


def standing() -> str:
    """Where the paper's improved model stands: the best published result without
    augmentation, and the augmented results above it."""
    claimed = paper_accuracy("improved", SHORT)
    plain = [p for p in PUBLISHED if not p.augmented and p.preprocessing != "—"]
    best_plain = max(plain, key=lambda p: p.accuracy)
    above = [p for p in PUBLISHED if p.augmented and p.accuracy > claimed]
    higher = (
        "; only augmented training is reported higher there: "
        + ", ".join(f"{p.model} ({num(p.accuracy)} %)" for p in above)
        if above
        else "; no result reported there is higher"
    )
    return (
        f"The paper's {num(claimed)} % after {SHORT} epochs, with no augmentation stated, is "
        f"{num(claimed - best_plain.accuracy, sign=True)} points above the best result without "
        f"augmentation in {SOURCE} ({best_plain.model}, {num(best_plain.accuracy)} %){higher}. "
        f"Dataset: {DATASET}."
    )
