"""Common async/sync mistakes, one small runnable module each (see README.md).

Wrong on purpose: excluded from the default audit and from ruff/mypy. Run one
with ``python -m examples.antipatterns.<name>``; it exits 0 when it
reproduced its failure (the symptom is printed), 1 when it did not.
"""
