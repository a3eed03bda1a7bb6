"""A Django app of real misbehaving programs and their correct twins (``settings.guardlab``)."""
