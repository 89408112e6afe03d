"""The ground floor, torch-free: what a run is (``config``, the ``arms`` and profiles), where
the repository and its results lie (``repo``), and what a run leaves (``records``, checked
by meaning in ``validate``). Every other package builds on it."""
