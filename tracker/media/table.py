"""``Table``: rows of typed cells (numbers, text, bool, None, images), e.g. a model's worst predictions.

A table keeps at most MAX_TABLE_ROWS rows and MAX_TABLE_COLUMNS columns: past them the first rows
and columns are kept, the rest dropped with a warning, and the counts dropped go into the record
so the page can say so. Its file is JSON; image cells are files of their own, referenced by name.
"""
from __future__ import annotations

import datetime
import json
import math
import warnings
from collections.abc import Mapping

from .base import Encoded, Media, bounded_text, module_of
from .image import Image
from ..errors import ArgumentTypeError, MediaValueError
from ..values import check_int_size

MAX_TABLE_ROWS = 10_000
MAX_TABLE_COLUMNS = 100
MAX_CELL_CHARS = 10_000  # a cell is a value or a sentence; a longer text is cut, ending in "…"
MAX_COLUMN_NAME_CHARS = 200
HELD_BYTES_PER_CELL = 64  # a cell held in a list: a pointer and a small Python object, about
CELL_TYPES = "a number, str, bool, None or tracker.media.Image"
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
PLAIN_CELL_TYPES = frozenset({int, float, str, bool, type(None)})


class Table(Media):
    """A table to log: ``Table(rows=None, columns=None, dataframe=None)``.

    ``rows`` is a sequence of rows, each a sequence of cells; ``columns`` names them (default
    "column 1", "column 2"...). Or pass a pandas ``dataframe`` instead of both, its missing values
    (NaN, None, NaT, NA) as empty cells. Cells are numbers (NumPy scalars too), str, bool, None,
    dates (stored as ISO text) or ``Image`` objects.
    """

    kind = "table"

    def __init__(self, rows=None, columns=None, dataframe=None):
        if dataframe is not None:
            if rows is not None or columns is not None:
                raise MediaValueError("Table()", "was given dataframe with rows or columns",
                                      "either a dataframe or rows and columns")
            rows, columns, total_rows = _dataframe_rows(dataframe)
        else:
            rows, total_rows = _row_list(rows)
        columns = _column_names(columns, rows)
        self.dropped_rows = max(0, total_rows - MAX_TABLE_ROWS)
        self.dropped_columns = max(0, len(columns) - MAX_TABLE_COLUMNS)
        if self.dropped_rows or self.dropped_columns:
            warnings.warn(f"Table of {total_rows:,} rows x {len(columns):,} columns: kept the first "
                          f"{MAX_TABLE_ROWS:,} rows and {MAX_TABLE_COLUMNS:,} columns, the cap", stacklevel=2)
        self.columns = columns[:MAX_TABLE_COLUMNS]
        # The copy the training loop pays for: each kept row copied, cells of other types made plain.
        self._rows = [_row_cells(index, row, len(columns)) for index, row in enumerate(rows[:MAX_TABLE_ROWS])]

    def held_bytes(self) -> int:
        """An estimate by cell count: walking a 10,000-row table to measure it would cost the loop more."""
        return len(self._rows) * len(self.columns) * HELD_BYTES_PER_CELL

    def encode(self) -> Encoded:
        images = {}  # id of an Image cell -> its Encoded: an image in many cells is encoded once
        rows = [[_cell_json(cell, images, index, column) for column, cell in enumerate(row)]
                for index, row in enumerate(self._rows)]
        document = {"columns": self.columns, "column_types": _column_types(self._rows, len(self.columns)),
                    "rows": rows}
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        fields = {"kind": self.kind, "rows": len(rows), "columns": len(self.columns),
                  "dropped_rows": self.dropped_rows, "dropped_columns": self.dropped_columns}
        attachments = {encoded.file_name: encoded for encoded in images.values()}  # equal images: one file
        return Encoded(data, "json", fields, tuple(attachments.values()))


def _row_list(rows) -> tuple[list, int]:
    if rows is None:
        return [], 0
    if module_of(rows) == "pandas":
        raise ArgumentTypeError("rows", rows, "a list of rows; pass a DataFrame as Table(dataframe=...)")
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__len__") or not hasattr(rows, "__getitem__"):
        raise ArgumentTypeError("rows", rows, "a list of rows, each a list of cells")
    return rows, len(rows)


def _column_names(columns, rows) -> list[str]:
    if columns is None:
        width = len(rows[0]) if len(rows) else 0
        return [f"column {number}" for number in range(1, width + 1)]
    if isinstance(columns, (str, bytes)) or not hasattr(columns, "__iter__"):
        raise ArgumentTypeError("columns", columns, "a list of column names")
    names = []
    for index, name in enumerate(columns):
        if isinstance(name, bool) or not isinstance(name, (str, int)):
            raise ArgumentTypeError(f"columns[{index}]", name, "a str")
        names.append(bounded_text(str(name), MAX_COLUMN_NAME_CHARS)[0])
    return names


def _row_cells(index: int, row, width: int) -> list:
    """A copy of a row's kept cells. A row of plain cells is copied as it is (cells of these types
    cannot change under the table): the check that keeps a 10,000-row table cheap in the loop."""
    if isinstance(row, (str, bytes, Mapping)) or not hasattr(row, "__len__"):
        raise ArgumentTypeError(f"rows[{index}]", row, f"a list of {width} cells")
    if len(row) != width:
        raise MediaValueError(f"rows[{index}]", f"has {len(row)} cells", f"{width}, one per column")
    kept = row[:MAX_TABLE_COLUMNS]
    if set(map(type, kept)) <= PLAIN_CELL_TYPES:
        return list(kept)
    return [_cell(index, column, cell) for column, cell in enumerate(kept)]


def _cell(row: int, column: int, cell):
    """A cell of another type as a plain value, or ArgumentTypeError naming its place."""
    if type(cell) in PLAIN_CELL_TYPES or isinstance(cell, Image):
        return cell
    if isinstance(cell, str):  # NumPy's str_ and other subclasses
        return str(cell)
    if isinstance(cell, (datetime.date, datetime.time)):  # pandas Timestamps are datetimes
        return cell.isoformat()
    if module_of(cell) == "numpy" and getattr(cell, "ndim", None) == 0:  # a NumPy scalar, not an array
        return _cell(row, column, cell.item())
    if isinstance(cell, (int, float)):  # subclasses: IntEnum, NumPy's float64
        return int(cell) if isinstance(cell, int) else float(cell)
    raise ArgumentTypeError(f"rows[{row}][{column}]", cell, CELL_TYPES)


def _cell_json(cell, images: dict, row: int, column: int):
    """A cell as it is stored: a JSON scalar (text bounded to MAX_CELL_CHARS), or an object for an
    image or a non-finite number."""
    kind = type(cell)
    if kind is str:
        return bounded_text(cell, MAX_CELL_CHARS)[0]
    if kind is float:
        return cell if math.isfinite(cell) else {"number": NON_FINITE[repr(cell)]}
    if kind is int:
        return check_int_size(cell, f"rows[{row}][{column}]")
    if isinstance(cell, Image):
        encoded = images.get(id(cell))
        if encoded is None:
            encoded = images[id(cell)] = cell.encode()
        return {"image": encoded.file_name, "width": cell.width, "height": cell.height, "caption": cell.caption}
    return cell


def _column_types(rows: list, width: int) -> list[str]:
    """Each column's type for sorting and alignment: number, text, bool, image, empty or mixed."""
    types = []
    for column in range(width):
        seen = {_cell_type(row[column]) for row in rows} - {"empty"}
        types.append(seen.pop() if len(seen) == 1 else ("empty" if not seen else "mixed"))
    return types


def _cell_type(cell) -> str:
    if cell is None:
        return "empty"
    if type(cell) is bool:
        return "bool"
    if isinstance(cell, (int, float)):
        return "number"
    return "image" if isinstance(cell, Image) else "text"


def _dataframe_rows(frame) -> tuple[list, list[str], int]:
    """A pandas DataFrame's kept rows (as lists of cells) and column names, and its full row count."""
    if module_of(frame) != "pandas" or not hasattr(frame, "itertuples"):
        raise ArgumentTypeError("dataframe", frame, "a pandas DataFrame")
    columns = [str(name) for name in frame.columns]
    kept = frame.iloc[:MAX_TABLE_ROWS]
    # What pandas counts missing (NaN, None, NaT, pd.NA) is an empty cell, whatever the column's type.
    kept = kept.astype(object).where(kept.notna(), None)
    rows = list(kept.itertuples(index=False, name=None))
    return rows, columns, len(frame)
