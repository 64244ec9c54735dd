"""Route handlers, one module per concern; ``ROUTES`` is what the app mounts."""
