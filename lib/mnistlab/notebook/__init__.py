"""Layer 6, ``notebook``: what a notebook cell calls.

The ``Study`` facade (open a study, show its settings, train, compare, show its analyses),
the by-name lookup of a study's analyses (``plugins``) and the checks behind the labs'
exercises.
"""
