"""Real workers and servers running the guard lab; events read from their JSON logs."""
