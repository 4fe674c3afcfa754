"""Study 004 (Fouchier & Yang): one module per section of its results, each with its own
analyses named ``004.<name>``: ``batch_size`` (V.A, Figure 2), ``hidden_layer`` (V.B, Tables
I and II, Figures 3 and 4), ``optimizer`` (V.C, Table III)."""

from mnistlab.studies import Analyses
from mnistlab.studies.fouchier_yang_004 import batch_size, hidden_layer, optimizer

ANALYSES = Analyses("004", batch_size.ANALYSES, hidden_layer.ANALYSES, optimizer.ANALYSES)
