"""What each protocol's verdicts can say, in sentences: the verdicts at a glance, the
proxy's distortions, what the seeds can decide, the paper protocol's baseline so far.

The paper protocol's verdicts are the primary ones; a reduced profile's are a proxy, and
every page that shows its numbers says how it distorts them (``proxy_note``).
"""

from __future__ import annotations

import math

from lib.analysis import power, sensitivity, stats
from lib.core.arms import run_config
from lib.report.architecture import lr_factors, meta_training_flops
from lib.report.claims import (
    BASELINE,
    LONG,
    SHORT,
    SINGLE_CHANGES,
    improvement_claims,
    paper_accuracy,
    paper_diff,
)
from lib.report.formatting import (
    CI,
    interval,
    margin_phrase,
    mean_sd,
    num,
    protocol_phrase,
)
from lib.report.readings import NOT_PLANNED
from lib.report.results import Results
from lib.report.verdicts import judge, primary_family


def protocol_label(results: Results) -> str:
    if results.profile is None:
        return "no results"
    if not results.reduced:
        return "the paper's protocol"
    return f"our reduced `{results.profile}` proxy"


def _decay_at_short_cell(profile: str) -> float:
    """The exponential-decay arm's LR multiplier in the epoch read as the paper's 10th."""
    config = run_config("resnet34_lr", profile, 0)
    short = config.epochs * SHORT // LONG  # the Table 2 arms run twice the profile's epochs
    return lr_factors(config, short)[-1]


def _overfitting(results: Results) -> str:
    """The baseline's test loss rising while its training loss falls, if it does."""
    losses = results.epoch_losses
    mean = losses[losses["arm"] == BASELINE].groupby("epoch")[["train_loss", "test_loss"]].mean()
    if len(mean) < 2:
        return ""
    lowest, last = int(mean["test_loss"].idxmin()), int(mean.index.max())
    if lowest == last:
        return ""
    return (
        f"; {results.spec.train_subset:,} training images overfit: averaged over its seeds, "
        f"`{BASELINE}`'s test loss rises from {num(mean.loc[lowest, 'test_loss'], 3)} after "
        f"epoch {lowest} to {num(mean.loc[last, 'test_loss'], 3)} after epoch {last} while "
        f"its training loss falls from {num(mean.loc[lowest, 'train_loss'], 3)} to "
        f"{num(mean.loc[last, 'train_loss'], 3)}"
    )


def proxy_note(results: Results) -> str:
    """MyST admonition for every page showing a reduced profile's numbers: a proxy, and
    how it distorts them (empty for the paper's protocol or without results)."""
    if not results.reduced or results.empty:
        return ""
    ours, paper = _decay_at_short_cell(results.profile), _decay_at_short_cell("paper")
    decay = (
        f"the LR decay is not rescaled to the shorter run: in our epoch "
        f"{results.horizon(SHORT)}, read as the paper's {SHORT}th, the decayed LR is "
        f"×{num(ours)} of the initial one where the paper's protocol has ×{num(paper)}"
    )
    return (
        f":::{{important}} A proxy: {protocol_label(results)}\n"
        f"These numbers come from a reduced protocol ({protocol_phrase(results)}); its "
        "verdicts are labelled *proxy* and its absolute accuracies *not comparable* with the "
        f"paper's. The paper's {SHORT}-epoch cells are read at our epoch "
        f"{results.horizon(SHORT)} and its {LONG}-epoch cells at our epoch "
        f"{results.horizon(LONG)}. Known distortions: {decay}{_overfitting(results)}.\n:::\n"
    )


def proxy_section_note(results: Results, proxy: Results) -> str:
    """For a section of the paper protocol's page whose arms run only under the proxy: why,
    and what its rows are (empty where the page shows a reduced profile already)."""
    if results.reduced or proxy.empty:
        return ""
    return (
        f"These arms are {NOT_PLANNED}. The rows below come from the "
        f"`{proxy.profile}` proxy ({protocol_phrase(proxy)}); their verdicts are marked "
        "*proxy*, and their accuracies are not comparable with the paper's."
    )


def permutation_floor(results: Results) -> str:
    """What the exact permutation test can reach with the profile's planned seeds and, while
    arms have fewer, with the fewest that an arm of the primary family with two seeds or
    more has now."""
    if results.spec is None:
        return "Without results there are no seeds to relabel."
    n = len(results.spec.seeds)
    text = _floor(n, f"With {n} seeds per arm, as {protocol_label(results)} plans")
    family = {BASELINE} | {arm for _, arm, _, _ in improvement_claims()}
    per_arm = results.completeness["per_arm"]
    judged = [per_arm[arm] for arm in family if per_arm[arm] >= 2]
    if judged and min(judged) < n:
        m = min(judged)
        text += " " + _floor(
            m, f"So far the arms of the paper's improvement claims have as few as {m} seeds"
        )
    return text


def _floor(n: int, opening: str) -> str:
    floor = sensitivity.smallest_permutation_p(n, n)
    text = (
        f"{opening}: the exact permutation test has {math.comb(2 * n, n):,} relabellings, "
        f"so its two-sided p cannot fall below {floor:.3g}"
    )
    levels = {
        "a primary claim's": power.family_alpha(len(improvement_claims())),
        "an exploratory comparison's": stats.ALPHA,
    }
    beyond = [
        f"{name} level ({100 * alpha:g} %)" for name, alpha in levels.items() if floor >= alpha
    ]
    if beyond:
        return text + (
            f": it cannot exclude any value at {' or '.join(beyond)}, so there it is left out "
            "of the sensitivity analyses rather than counted as another verdict. That is a "
            "limit of the seeds, not a finding."
        )
    return text + "."


def paper_baseline(paper: Results) -> str:
    """The baseline at the paper's own protocol so far, beside the paper's number."""
    value = paper_accuracy(BASELINE, SHORT)
    s = paper.summary(BASELINE)
    if s.n == 0:
        return (
            f"No run of `{BASELINE}` at the paper's own protocol is complete yet "
            "({doc}`paper_protocol`); those records will settle the absolute numbers on "
            "this page."
        )
    return (
        f"At the paper's own protocol ({{doc}}`paper_protocol`), `{BASELINE}` reaches "
        f"{mean_sd(s, unit='%')} after epoch {paper.horizon(SHORT)} against the paper's "
        f"{num(value)} % ({margin_phrase(s, value)})."
    )


def precision_note(results: Results) -> str:
    precisions = results.runs["precision"].value_counts()
    return (
        "Training precision in these records: "
        + (", ".join(f"**{p}** ({n} runs)" for p, n in precisions.items()) or "none yet")
        + ". bf16 means bf16 autocast of the convolutions (weights, optimiser and loss in "
        "fp32); the paper, trained on a GTX 1060 that has no bf16 units, almost certainly "
        "used fp32."
    )


def precision_mix(results: Results, arms: list[str]) -> str:
    """The precision each arm's runs trained in and, where an arm mixes bf16 and fp32, the
    paper's claims on these arms judged on the bf16 runs alone (a sensitivity analysis,
    never the verdict)."""
    counts = {arm: results.arm_runs(arm)["precision"].value_counts() for arm in arms}
    described = "; ".join(
        f"`{arm}` " + ", ".join(f"{p} ×{n}" for p, n in c.items()) for arm, c in counts.items()
        if len(c)
    )  # fmt: skip
    if not described:
        return ""
    text = f"Training precision of these runs: {described}."
    if all(len(c) <= 1 for c in counts.values()):
        return text
    bf16 = results.in_precision("bf16")
    family = primary_family(bf16)
    parts = [
        f"{claim_label(j)}: {num(j.comparison.diff, sign=True)} "
        f"{interval(j.comparison.ci_low, j.comparison.ci_high, sign=True)}, *{j.verdict}*"
        for j in family
        if j.arm in arms and j.baseline in arms
    ]
    return text + (
        " Judged on the bf16 runs alone (a sensitivity analysis, never the verdict), by the "
        "same rule: " + "; ".join(parts) + "."
    )


def claim_label(j) -> str:
    return f"`{j.arm}` at {j.paper_epochs} epochs"


def strongest_findings(results: Results) -> str:
    """The single changes the paper never tested alone whose difference from the baseline
    excludes 0 (exploratory, uncorrected), largest first, beside the paper's combined gain."""
    found = []
    for arm, what in SINGLE_CHANGES.items():
        j = judge(results, arm)
        if j.verdict.startswith(stats.DIFFERS):
            found.append((abs(j.comparison.diff), arm, what, j.comparison))
    if not found:
        return ""
    base_flops = meta_training_flops(run_config(BASELINE, results.model_profile, 0))
    parts = []
    for _, arm, what, c in sorted(found, reverse=True):
        ratio = meta_training_flops(run_config(arm, results.model_profile, 0)) / base_flops
        cost = f", at {ratio:.1f}× the baseline's training FLOPs" if ratio > 1.05 else ""
        parts.append(
            f"`{arm}`, {what}: **{num(c.diff, sign=True)} points** "
            f"({CI} {interval(c.ci_low, c.ci_high, sign=True)}){cost}"
        )
    return (
        f"**Beyond the paper ({protocol_label(results)}).** Changes the paper never tested "
        f"alone, against `{BASELINE}` after epoch {results.horizon(SHORT)}: "
        + "; ".join(parts)
        + f". For scale, the paper's four changes together claim "
        f"{num(paper_diff('improved', SHORT), sign=True)}. Exploratory: no correction for the "
        "contrasts tried ({doc}`beyond`)."
    )
