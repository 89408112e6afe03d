"""How a model trains: one model (``train``) or several seeds as one wide model (``fused``),
both through one epoch loop (``loop``) that pauses within a ``budget``, resumes from its
``checkpoint`` and writes the run's record (``provenance``); ``bench`` measures the speed
against the textbook loop (``naive``).
Imports ``lib.core`` and ``lib.model``."""
