"""Layer 2, ``spec``: what a study *is*, as data, checked before anything runs.

The params schema and its resolution into run specs, the published-tables format, the
learning tasks (MNIST digits, the function-fit points) and the verified MNIST loader.
Imports only ``core``; it never imports TensorFlow or a study's analysis code.
"""
