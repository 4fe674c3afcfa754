"""Layer 5, ``present``: what a reader sees.

The house style (labels, one number format), plots, published-beside-measured tables,
worded conclusions, the HTML/PDF report renderer and the index page.  Plots take frames
and arrays, never run folders.
"""
