"""Carrying a remote homegallery's entries home: :mod:`.remote` talks to its HTTP API,
:mod:`.sync` merges its entries, previews and tag changes with the local gallery."""
