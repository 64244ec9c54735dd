"""The ``homegallery`` command line: one module per command, wired in ``main``.

``main`` imports every command module to build ``--help``, so a command module
imports the stage it runs (the server, the catalog, the extractors, onnx) inside its
``run`` function, each such import marked ``# lazy: light --help``; at module level
it imports only what its parser needs.
"""
