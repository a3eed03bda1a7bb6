"""How people run the audit: the ``check`` command (the console script's and
``manage.py audit_async``'s options and output) and Django's ``manage.py check``."""
