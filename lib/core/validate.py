"""Run records validated by meaning.

``read_record`` only says whether a file is a record at all. A readable record can still
not hold together: a config edited under its stored key, an accuracy of 150 %, the record
of seed 0 in seed 1's folder, files other than the pinned Fashion-MNIST. ``problems`` names
every such inconsistency; ``lib.analysis.results.load_results`` marks those records ``invalid`` and
the runner reruns them. Whether a consistent record is *current* (its config the one the
registry gives today) is a separate question: ``stored_config`` gives what to compare.
"""

from __future__ import annotations

import json
from pathlib import Path

from lib.core.config import RunConfig
from lib.core.dataset import FILES
from lib.core.records import MalformedRecord, read_record


def stored_config(record: dict) -> RunConfig:
    """The config the record was asked to run (ValueError/TypeError when it is not one): its
    stored config, with the requested precision where the hardware ran another."""
    if not isinstance(record.get("config"), dict):
        raise TypeError("config is not an object")
    requested = (
        {"precision": record["precision_requested"]} if "precision_requested" in record else {}
    )
    return RunConfig.from_dict({**record["config"], **requested})


def iterations_per_epoch(config: RunConfig) -> int:
    """Training steps in one epoch: batches of the subset, a last batch of one image dropped
    (as ``lib.training.train.training_batches`` does)."""
    full, rest = divmod(config.train_subset, config.batch_size)
    return full + (1 if rest > 1 else 0)


def _accuracy_ok(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100


def problems(record: dict, path: Path | None = None) -> list[str]:
    """What makes a readable record not hold together (empty list: nothing).

    The stored result key must be its config's; arm, seed and profile must agree with the
    config and, given ``path``, with the folder (``<profile>/<arm>/seed-<k>/record.json``);
    accuracies lie in [0, 100] and final/best are the epochs' own; a complete record has
    the config's epochs, numbered 1..n, and the steps they take; the data checksums are
    the pinned ones (``lib.core.dataset.FILES``).
    """
    try:
        config = stored_config(record)
    except (TypeError, ValueError) as error:
        return [f"its config is not a valid run config ({error})"]
    found = []
    key = config.result_key()
    if record.get("result_key") != key:
        found.append(
            f"stored result_key {record.get('result_key')} is not its config's ({key}): "
            "the config or the key was edited"
        )
    for field in ("arm", "seed", "profile"):
        if record.get(field) != getattr(config, field):
            found.append(
                f"{field} {record.get(field)!r} differs from its config's "
                f"{getattr(config, field)!r}"
            )
    if path is not None:
        path = Path(path)
        where = (path.parent.parent.parent.name, path.parent.parent.name, path.parent.name)
        expected = (config.profile, config.arm, f"seed-{config.seed}")
        if where != expected:
            found.append(
                f"lies in {'/'.join(where)} but is the record of {'/'.join(expected)} "
                "(copied or moved)"
            )
    epochs = record.get("epochs")
    if not isinstance(epochs, list) or not all(isinstance(e, dict) for e in epochs):
        return [*found, "epochs is not a list of epoch metrics"]
    accuracies = [e.get("test_accuracy") for e in epochs]
    bad = [a for a in accuracies if not _accuracy_ok(a)]
    if bad:
        found.append(f"test accuracy {bad[0]!r} is not a percentage in [0, 100]")
    if [e.get("epoch") for e in epochs] != list(range(1, len(epochs) + 1)):
        found.append("its epochs are not numbered 1..n")
    status = record.get("status")
    if status == "complete" and len(epochs) != config.epochs:
        found.append(f"complete with {len(epochs)} epochs, its config has {config.epochs}")
    elif len(epochs) > config.epochs:
        found.append(f"{len(epochs)} epochs, more than its config's {config.epochs}")
    if accuracies and not bad:
        for name, value in (
            ("final", accuracies[-1]),
            ("best", max(accuracies)),
        ):
            stored = record.get(f"{name}_test_accuracy")
            if stored != value:
                found.append(
                    f"{name}_test_accuracy {stored!r} is not its epochs' {name} ({value!r})"
                )
    if status == "complete":
        losses = record.get("iteration_losses")
        steps = len(epochs) * iterations_per_epoch(config)
        if not isinstance(losses, list) or len(losses) != steps:
            count = len(losses) if isinstance(losses, list) else "no"
            found.append(f"{count} iteration losses, its {len(epochs)} epochs take {steps} steps")
    pinned = {name: sha for name, (sha, _) in FILES.items()}
    if "dataset_sha256" in record or status == "complete":
        if record.get("dataset_sha256") != pinned:
            found.append("its dataset checksums are not the pinned Fashion-MNIST ones")
    return found


def duplicates(runs: list[tuple[str, str, list]]) -> dict[str, list[str]]:
    """Records of one arm with identical iteration losses: {path: [the other paths]}.

    ``runs``: (path, arm, iteration losses) of the records to compare. Two seeds never
    train to the same losses, so such records are copies of one run; which of them is the
    original the records cannot tell, so every one of them is named.
    """
    groups: dict[tuple, list[str]] = {}
    for path, arm, losses in runs:
        if losses:
            groups.setdefault((arm, json.dumps(losses)), []).append(str(path))
    return {
        path: [other for other in paths if other != path]
        for paths in groups.values()
        if len(paths) > 1
        for path in paths
    }


def sibling_copies(record: dict, path: Path) -> list[str]:
    """``duplicates`` for one complete record among the valid complete records of its arm
    (the other ``seed-*`` folders beside its own), as problems naming each copy."""
    if record.get("status") != "complete" or not record.get("iteration_losses"):
        return []
    path = Path(path)
    runs = [(str(path), record.get("arm"), record["iteration_losses"])]
    for other in sorted(path.parent.parent.glob("seed-*/record.json")):
        if other == path:
            continue
        try:
            sibling = read_record(other)
        except MalformedRecord:
            continue
        if sibling["status"] == "complete" and not problems(sibling, other):
            runs.append((str(other), sibling.get("arm"), sibling.get("iteration_losses")))
    copies = duplicates(runs).get(str(path), [])
    return [f"the same iteration losses as {other}" for other in copies]
