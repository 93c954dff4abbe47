"""Loaders: a file on disk (ACLED, UCDP GED, GTD or this package's own table;
CSV, XLSX or Parquet) to the validated canonical incident table, with every
rejected row kept in a quarantine with its origin and reasons.

Modules: `read` (bytes to text cells with line numbers), `detect` (which
format), one module per format (`acled`, `ucdp`, `gtd`, `native`), `convert`
(coercion that records failures), `load` (`load_incidents`, `LoadResult`).
"""

from ..errors import LoadError
from .load import LoadResult, load_incidents

__all__ = ["LoadError", "LoadResult", "load_incidents"]
