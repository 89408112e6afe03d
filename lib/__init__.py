"""Replication of "an improved ResNet-34" on Fashion-MNIST.

Packages, in the order a run flows through them, each importing only those before it:

- ``core``: the run config, the arms and profiles, paths, records and their validation;
- ``model``: Fashion-MNIST and the ResNet-34 family;
- ``training``: the training loop, its engines, checkpoints and budget, the run's record;
- ``runs``: the runner (papermill, Dask), run folders, the paper campaign;
- ``analysis``: records as a DataFrame, the statistics of the verdict rule, curve measures;
- ``report``: what the book's chapters show.

``python -m lib`` (``__main__``, parser in ``cli``) is the command line over all of them.
"""
