"""Lesson 04: see notebooks/04_effective_rf.ipynb."""
