"""The query language: :mod:`.lexer` → :mod:`.parser` (syntax tree) → :mod:`.check`
(checked tree, every key, operator and value resolved through :mod:`.fields`) →
:mod:`.evaluate` (the engine, over the catalog's column snapshot)."""

from homegallery.catalog.query.check import check_query
from homegallery.catalog.query.checked import CheckedQuery
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.query.parser import parse

__all__ = ["CheckedQuery", "QueryError", "check_query", "parse"]
