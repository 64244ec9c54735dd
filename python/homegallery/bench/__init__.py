"""Stage benchmarks shared by ``benches/`` scripts and ``homegallery bench``.

Each module measures one hot path against a baseline taken in the same run and adds
its figures to a ``homegallery.bench.report.Report``.
"""
