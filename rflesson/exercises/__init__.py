"""Exercise answers, one module per notebook (``nb02`` for notebook 02).

Modules here are imported on demand by :func:`rflesson.check`.
"""
