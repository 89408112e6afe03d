"""From records to numbers: the records of a profile as one DataFrame (``results``), the
verdict rule and its intervals (``stats``, ``power``, ``sensitivity``) and the loss-curve
measures (``curves``). Imports only ``lib.core``; torch-free."""
