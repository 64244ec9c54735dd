"""The query language: :mod:`.lexer` → :mod:`.parser` (AST) → :mod:`.compiler` (SQL)."""

from homegallery.catalog.query.compiler import CompiledQuery, compile_query
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.query.parser import parse

__all__ = ["CompiledQuery", "QueryError", "compile_query", "parse"]
