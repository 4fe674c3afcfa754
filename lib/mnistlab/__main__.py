"""``python -m mnistlab``: the command line (``mnistlab.pipeline.cli``)."""

import sys

from mnistlab.pipeline.cli import main

sys.exit(main())
