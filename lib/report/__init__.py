"""The book's report: what the chapters in book/ show, computed from the run records.

Layered, each module importing only from the layers above it in this list:

1. ``claims``: the paper's claims as data (which arm each table adds, Figs 4-6, readings);
2. ``results``: the only reader of environment variables and files (``load()``);
3. ``formatting`` (numbers, intervals, verdicts as text) and ``glue`` (myst-nb);
4. ``architecture`` (the only module importing torch), then ``verdicts`` (the rule of
   ``lib.analysis.stats`` applied to the records: the primary family judged together,
   sensitivity, n/a);
5. ``tables``, ``convergence``, ``provenance``, ``readings``: the tables and measures;
6. ``protocols`` (verdicts per protocol, the proxy's distortions), ``prose`` (what the
   results say), ``notes`` (what the records are) and ``figures`` (the only module
   drawing, with matplotlib and seaborn);
7. ``chapters``: what every table chapter glues, in one call.

A chapter loads once (``results.load()``), then glues what these modules compute
(``glue.put*``); no chapter types a number or builds a sentence of its own.
"""
