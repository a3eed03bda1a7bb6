"""One module per fixer; each defines a ``Fixer`` subclass with a ``code`` (found by walking)."""
