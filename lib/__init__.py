"""Replication of "an improved ResNet-34" on Fashion-MNIST.

Modules, in the order a run flows through them: config (RunConfig), data (verified
Fashion-MNIST), models (the ResNet-34 family), ablations (arms, profiles, paper numbers),
train (the loop), fused (several seeds in one model), records (run records, provenance),
runner (papermill/Dask campaigns), results (records -> DataFrame), stats (the book's
statistics, pure numbers), report (the book's tables, sentences and figures), bench
(throughput against a naive loop).
"""
