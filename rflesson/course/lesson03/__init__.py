"""Lesson 03: see notebooks/03_dilation_subsampling.ipynb."""
