"""Reading an analyst's data file without surprises.

CSV files exported from Chinese statistical systems come in UTF-8, UTF-8 with a byte-order
mark (Excel's "CSV UTF-8") or GBK/GB18030 (Excel's default on a Chinese Windows), with commas,
semicolons or tabs between fields; bureau exports are often Excel workbooks. :func:`read_table`
reads all of these, and Parquet, and says clearly in one line what it could not read.
:mod:`payreform.io.duckdb_source` scans large files with DuckDB under the same rules
(:mod:`payreform.io.rules`). Files are opened read-only and never modified.
"""

from payreform.io.rules import MISSING_MARKERS
from payreform.io.tables import Table, file_sha256, read_table

__all__ = ["MISSING_MARKERS", "Table", "file_sha256", "read_table"]
