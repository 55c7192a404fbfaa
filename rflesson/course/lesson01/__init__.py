"""Lesson 01: see notebooks/01_biology.ipynb."""
