"""Layer 1, ``core``: what every other layer stands on and nothing about MNIST or a paper.

Paths (the one owner of where files live), YAML reading with errors that name the key,
content digests and atomic writes, the build lock, failure records, Markdown/HTML escaping,
version checks, and the one exceptions module with the command line's exit codes.
Imports no other mnistlab layer.
"""
