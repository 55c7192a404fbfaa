"""Lesson 02: see notebooks/02_rf_arithmetic.ipynb."""
