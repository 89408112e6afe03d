"""lib.report.context: the paper's numbers among published Fashion-MNIST results."""

from __future__ import annotations

from lib.report import context
from lib.report.claims import BASELINE, SHORT, paper_accuracy
from lib.report.formatting import num


def test_published_table_ranks_the_papers_numbers_among_the_cited_ones():
    table = context.published_table()
    assert len(table) == len(context.PUBLISHED) + 2
    shown = [float(v.replace("<strong>", "").replace("</strong>", "")) for v in table.iloc[:, -1]]
    assert shown == sorted(shown, reverse=True)
    for arm in (BASELINE, "improved"):
        assert f"<strong>{num(paper_accuracy(arm, SHORT))}</strong>" in list(table.iloc[:, -1])


def test_standing_compares_with_the_best_unaugmented_and_names_the_higher_ones():
    text = context.standing()
    claimed = paper_accuracy("improved", SHORT)
    assert "GoogleNet, cross-entropy loss, 93.70 %" in text  # the best without augmentation
    assert f"{num(claimed - 93.7, sign=True)} points above" in text
    higher = [p.model for p in context.PUBLISHED if p.augmented and p.accuracy > claimed]
    assert higher and all(model in text for model in higher)
    assert "WRN-28-10 (" not in text  # 95.9 %: below the claim, not named as higher
    assert "arXiv:1708.07747" in text
