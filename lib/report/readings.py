"""The paper's ambiguities: our choice for each, and the verdicts under every other reading."""

from __future__ import annotations

import html

import pandas as pd

from lib.core.config import RunConfig
from lib.report.claims import (
    BASELINE,
    BASELINE_READINGS,
    LONG,
    READINGS,
    SHORT,
    paper_diff,
    paper_epochs,
)
from lib.report.formatting import (
    ci_label,
    code,
    epochs_label,
    finite,
    interval,
    made_by,
    md_codes,
    mean_sd,
    num,
    protocol_phrase,
)
from lib.report.provenance import normalisations
from lib.report.results import Results
from lib.report.tables import primary_verdict_cell
from lib.report.verdicts import Judgement, claim_judgement, judge

NOT_RUN = "not run (depends on the run length)"
# Why an arm runs only under the proxy (the paper protocol's plan, ``lib.core.plan``): the
# one wording of every page that shows such arms (``protocols.proxy_section_note`` too).
NOT_PLANNED = (
    "not planned at the paper's protocol: its core-hours go to the paper's own claims and the "
    "controls that decide them first"
)


def reading_verdicts(results: Results, arm: str) -> list[tuple[str, Judgement | None]]:
    """(which paper comparison, its judgement; None where the reading has no such run)
    under the reading ``arm`` stands for."""
    inception = paper_diff("resnet34_inception", SHORT)
    if arm in BASELINE_READINGS:
        # the paper's Table 4 with this arm as the baseline it improves on
        return [
            (f"Table 4 against {arm}", judge(results, "resnet34_inception", arm, claim=inception))
        ]
    if arm.startswith("resnet34_inception"):
        return [("Table 4", judge(results, arm, BASELINE, claim=inception))]
    return [
        (
            f"Table 2, {epochs_label(results, epochs)} ep",
            judge(results, arm, BASELINE, epochs, claim=paper_diff("resnet34_lr", epochs))
            if results.available(arm, epochs)
            else None,
        )
        for epochs in paper_epochs("resnet34_lr")
    ]


def comparison_cell(results: Results, j: Judgement | None) -> str:
    """The paper's comparison under a reading: our difference and its 95 % interval against
    the paper's number, an estimate (exploratory); under our default reading, the primary
    family's judgement instead (its simultaneous interval and verdict), the only verdict a
    paper claim gets."""
    if j is None:
        return NOT_RUN
    claim = claim_judgement(results, j.arm, j.paper_epochs, j.baseline)
    c = (claim or j).comparison
    text = (
        f"{num(c.diff, sign=True)} {interval(c.ci_low, c.ci_high, sign=True)} "
        f"(paper {num(j.assessment.claim, sign=True)})"
    )
    if claim is None:
        return text
    verdict = primary_verdict_cell(results, claim)
    return f"{text} <small>{ci_label(claim.alpha)}</small><br>{verdict}"


def proxy_readings(results: Results, proxy: Results | None) -> list[str]:
    """The readings other than our defaults that ``results`` has no run of and ``proxy``
    has: their rows in ``readings_table`` come from the proxy (at the paper's protocol, the
    readings it does not plan). Our default readings always stay with ``results``: their
    rows carry the paper's claims' verdicts."""
    if proxy is None or proxy is results:
        return []
    return [
        r.arm
        for r in READINGS
        if not r.default and results.summary(r.arm).n == 0 < proxy.summary(r.arm).n
    ]


def row_results(results: Results, proxy: Results | None, arm: str) -> Results:
    """The records that ``arm``'s row of ``readings_table`` comes from."""
    return proxy if arm in proxy_readings(results, proxy) else results


def proxy_rows_note(results: Results, proxy: Results | None) -> str:
    """Why the rows of ``proxy_readings`` come from the proxy, and how they are marked
    (empty where every row comes from ``results``)."""
    arms = proxy_readings(results, proxy)
    if not arms:
        return ""
    planned = results.completeness["planned_per_arm"]
    unplanned = [a for a in arms if not planned.get(a)]
    waiting = [a for a in arms if planned.get(a)]
    why = []
    if unplanned:
        why.append(f"{md_codes(unplanned)} {'is' if len(unplanned) == 1 else 'are'} {NOT_PLANNED}")
    if waiting:
        has = "has" if len(waiting) == 1 else "have"
        why.append(f"{md_codes(waiting)} {has} no complete run in the records shown yet")
    return (
        "; ".join(why)
        + f". Their rows come from our reduced `{proxy.profile}` proxy ({protocol_phrase(proxy)}), "
        f"marked *{proxy.profile} proxy* beside each number: its accuracies are not comparable "
        "with the paper's, and its estimates compare the proxy's own runs."
    )


@made_by
def readings_table(results: Results, proxy: Results | None = None) -> pd.DataFrame:
    """Per reading: the accuracy it reaches, how far it moves from our default reading, and
    the paper comparison it bears on as an estimate with its 95 % interval; a reading with
    no runs in ``results`` but runs in ``proxy`` (``proxy_readings``) is shown from the
    proxy, each number marked as the proxy's."""
    rows = []
    default_of = {r.ambiguity: r.arm for r in READINGS if r.default}
    for reading in READINGS:
        arm = reading.arm
        source = row_results(results, proxy, arm)
        mark = f" ({source.profile} proxy)" if source is not results else ""
        accuracy = mean_sd(source.summary(arm))
        if mark:
            accuracy += f" ({source.profile} proxy, after epoch {source.horizon(SHORT)})"
        c = source.compare(arm, default_of[reading.ambiguity])
        rows.append(
            {
                "Ambiguity": reading.ambiguity,
                "Reading": reading.label,
                "Arm": code(arm),
                f"Accuracy, {epochs_label(results, SHORT)} ep (%)": accuracy,
                "Moves it by (vs our default)": "default"
                if reading.default
                else (
                    f"{num(c.diff, sign=True)} {interval(c.ci_low, c.ci_high, sign=True)}{mark}"
                    if finite(c.diff)
                    else "n/a"
                ),
                "The paper's comparison under this reading (points, 95 % CI)": "<br>".join(
                    f"{html.escape(what + mark)}: {comparison_cell(source, j)}"
                    for what, j in reading_verdicts(source, arm)
                ),
            }
        )
    return pd.DataFrame(rows)


@made_by
def ambiguities_table(results: Results) -> pd.DataFrame:
    """Every ambiguity: what the paper says, what we do (from RunConfig), which arm tests it."""
    cfg = RunConfig()
    none = "— (not tested; a fixed choice)"
    norms = normalisations(results)
    in_records = "; ".join(f"mean {m:.4f}, sd {s:.4f}" for m, s in norms)
    # fmt: off
    rows = [
        ("Inception stem stride / pooling", "not stated",
         f"stride {cfg.stem_stride}, no pooling: full 28×28 into conv2",
         "resnet34_inception_s2 (stride 2 + max-pool → 7×7); resnet34_plainstem (control)"),
        ("Inception stem in a narrower body (reduced-width proxy)",
         "only full width (64 channels into conv2)",
         "the branches keep Fig. 3's widths; a 1×1 conv + BN + act projects their 64 channels "
         "onto the body's width" if cfg.inception_branches == "paper"
         else "the branches narrowed with the body",
         none),
        ("Baseline stem on 28×28 images",
         "“a large convolution plus pooling” (7×7 lost in extraction)",
         "torchvision's 7×7/2 conv + 3×3/2 max-pool → 7×7",
         "resnet34_nopool (→ 14×14); resnet34_plainstem (3×3/1 → 28×28)"),
        ("LR schedule", "“decays with the iteration count”; form, rate and factor not stated",
         f"exponential, LR × {cfg.lr_gamma:g} after every epoch",
         f"resnet34_lr_step (× 0.1 every {cfg.lr_step_epochs} epochs); resnet34_lr_cosine "
         "(cosine to 0 over the run: depends on the run length, so it runs as long as the "
         f"paper's {SHORT}-epoch cell only and has no {LONG}-epoch cell)"),
        ("Base learning rate", "not stated (Adam)", f"Adam, lr {cfg.lr:g} (Adam's default)", none),
        ("Batch size", "not stated", str(cfg.batch_size),
         "resnet34_batch32 (batch 32; the baseline only)"),
        ("Initialisation", "not stated",
         "torchvision's: He-normal (fan-out) convolutions, BN weight 1 / bias 0", none),
        ("Augmentation", "not stated", "none",
         "resnet34_augment (random crops of the 4-pixel zero-padded image + horizontal flips; "
         "the baseline only)"),
        ("Normalisation", "not stated", "training-set mean and sd of the pixel values"
         + (f" ({in_records} in the records)" if norms else ""), none),
        ("Weight decay", "not stated", "none", none),
        ("Stem activation", "Fig. 3 shows BN after each branch",
         "the block activation (ReLU or SELU)", none),
        ("Shortcut of the baseline", "“traditional ResNet” pads with zeros (option A)",
         "zero-padding; the paper's 1×1 projection is option B",
         "resnet34_projection (improvement 1 alone)"),
        ("Numeric precision", "not stated (GTX 1060: fp32)",
         f"{cfg.precision} autocast where the hardware supports it, else fp32", none),
        ("“Iterations”", f"“only {SHORT} iterations” because of limited hardware", "epochs",
         none),
    ]
    # fmt: on
    columns = ["Ambiguity", "The paper", "Our choice", "Arm(s) testing it"]
    return pd.DataFrame(rows, columns=columns).map(html.escape)
