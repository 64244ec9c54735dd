"""Keeping a gallery tidy: entries out by query (:mod:`.remove`), storage files no
entry needs any more out of the storage (:mod:`.purge`)."""
