"""The paper grid on a GPU machine that has no git, no Jupyter and no Fashion-MNIST.

Such a machine receives a copy of the working tree, not the repository, so a run there could
not name its commit. ``pack`` (here, from a clean checkout) writes ``.remote/``, a git-ignored
folder copied there with the tree:

- ``data/``: the four Fashion-MNIST files, checked by ``lib.model.data`` there as here;
- ``manifest.json``: HEAD's commit and the git blob hash of every tracked file outside
  results/. There, ``lib.core.verify_manifest`` hashes the files again: the records name
  that commit, and ``git_dirty`` is true if any file differs or is missing;
- ``run.sh``: the one command to run there. It trains the grid arm by arm, the missing
  seeds of an arm as one fused model (``lib/training/fused.py``: grouping needs arm order), under a
  time budget with a hard stop behind it, and packs the records it added into
  ``$OUT/records.tgz``.

Back here, ``tar xzf records.tgz`` at the repository's root puts them under results/, and
``make campaign-commit`` commits the complete ones.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from lib.core.dataset import FILES
from lib.core.repo import REPO
from lib.model import data
from lib.runs.worktrees import git
from lib.training.budget import parse_duration

FOLDER = REPO / ".remote"
MANIFEST = "manifest.json"
# Outside the manifest: records change while a campaign runs, and they are the results.
UNHASHED = ("results/",)


def manifest(repo: Path = REPO) -> dict:
    """HEAD's commit and the blob hash of each tracked regular file outside results/."""
    if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!results", cwd=repo):
        raise RuntimeError(f"{repo} has uncommitted changes: commit them, then pack")
    files = {}
    for line in git("ls-files", "--stage", cwd=repo).splitlines():
        mode_hash_stage, path = line.split("\t", 1)
        mode, blob, _stage = mode_hash_stage.split()
        if mode in ("100644", "100755") and not path.startswith(UNHASHED):
            files[path] = blob
    return {"commit": git("rev-parse", "HEAD", cwd=repo), "files": files}


# Past the budget, a hard stop. Every run, a fused group of seeds included, starts no epoch
# that would end after the budget and keeps its epoch checkpoint (git-ignored, so it stays
# on that machine, where the next command on the same tree resumes it); the stop is the net
# for what the budget cannot foresee (compiling again after a resume), so that a command with
# a time limit still writes its archive. Killed here, a run loses only its epoch in progress.
HARD_STOP_AFTER_BUDGET_S = 60


def run_script(
    arms: list[str], seeds: list[int], budget: str, device: str, profile: str, seeds_at_once: int
) -> str:
    limit = int(parse_duration(budget)) + HARD_STOP_AFTER_BUDGET_S
    runs = [
        f"timeout --kill-after=15 {limit} python3 -m lib runs --profile {profile}",
        f"--order arm --executor direct --seeds-at-once {seeds_at_once}",
        f"--device {shlex.quote(device)} --budget {shlex.quote(budget)} --results results",
        f"--arms {','.join(arms)} --seeds {','.join(map(str, seeds))}",
    ]
    return "\n".join(
        [
            "#!/usr/bin/env bash",
            "# Written by `python -m lib pack` (lib/runs/remote.py): run at the repository's root.",
            "set -uo pipefail",
            'OUT="${OUT:?the folder whose files come back}"',
            "export FASHION_MNIST_DIR=$PWD/.remote/data LIB_MANIFEST=$PWD/.remote/manifest.json",
            "export PYTHONUNBUFFERED=1",
            "touch .remote/started",
            "python3 -c 'import torch, torchvision; print(torch.__version__, "
            "torchvision.__version__, torch.cuda.is_available())'",
            " ".join(runs) + ' 2>&1 | tee "$OUT/log.txt"',
            "status=${PIPESTATUS[0]}",
            "# the records this call added (complete or failed), never a checkpoint",
            "find results -name record.json -newer .remote/started -print0 "
            '| tar czf "$OUT/records.tgz" --null -T -',
            'tar tzf "$OUT/records.tgz"',
            'exit "$status"',
            "",
        ]
    )


def pack(
    arms: list[str],
    seeds: list[int],
    budget: str,
    device: str = "cuda",
    profile: str = "paper",
    seeds_at_once: int = 10,
    out: Path = FOLDER,
) -> Path:
    """Write ``out`` (data, manifest, run.sh) for a machine without git; returns the script."""
    listed = manifest()
    if out.exists():
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    source = data.find_dir()
    for name in FILES:
        shutil.copy2(data.file_in(source, name), out / "data")
    (out / MANIFEST).write_text(json.dumps(listed, indent=1))
    script = out / "run.sh"
    script.write_text(run_script(arms, seeds, budget, device, profile, seeds_at_once))
    script.chmod(0o755)
    return script
