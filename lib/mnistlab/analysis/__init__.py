"""Layer 4, ``analysis``: pure statistics on the results frame, no plots and no HTML.

One helper per statistical idea (``stats``), per-epoch curves, weight dynamics, the
published→measured mapping (``compare``) and the scorecard's verdicts.
"""
