"""Lesson 00: see notebooks/00_start_here.ipynb."""
