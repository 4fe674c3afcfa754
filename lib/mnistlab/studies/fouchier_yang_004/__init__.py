"""Study 004 (Fouchier & Yang): one module per section of its results, all registering
analyses named ``004.<name>``: ``batch_size`` (V.A, Figure 2), ``hidden_layer`` (V.B,
Tables I and II, Figures 3 and 4), ``optimizer`` (V.C, Table III)."""

from . import batch_size, hidden_layer, optimizer  # noqa: F401  (each registers its analyses)
from .batch_size import claims  # noqa: F401
from .optimizer import crossings  # noqa: F401
