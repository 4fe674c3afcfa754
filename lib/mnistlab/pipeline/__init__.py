"""Layer 8, ``pipeline``: running many studies.

Discovery and validation of params files, papermill execution, rendering and the index
(``runner``), building and grading labs with nbgrader (``labs``), benchmarks and the
command line (``cli``).
"""
