"""Many runs: the runner plans and executes them (papermill or in process, locally or on a
Dask cluster), keeps one folder per run, and the campaign runs the paper's grid in chunks
from a clean worktree; ``remote`` packs the tree for a machine without git. Imports
``lib.core``, ``lib.model`` and ``lib.training``."""
