"""The audit's worker processes (see ``pool``), and the work each does (``worker``)."""
