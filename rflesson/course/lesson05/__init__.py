"""Lesson 05: see notebooks/05_init_architecture.ipynb."""
