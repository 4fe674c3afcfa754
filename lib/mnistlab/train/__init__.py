"""Layer 3, ``train``: turning run specs into results.

The Keras backend, model building, probes, the trainer (seeds stepped together), the per-run
cache (``sweep``) and the Dask training queue (``cluster``).  The digest that keys every
cached run is taken over this subpackage's and ``spec``'s sources, so editing anything
above (a plot, a report, an analysis) never retrains.
"""
