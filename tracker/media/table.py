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

from .base import Encoded, Media, bounded_text, module_of
from .image import Image
from ..errors import ArgumentTypeError, MediaValueError
from ..values import check_int_size

MAX_TABLE_ROWS = 10_000
MAX_TABLE_COLUMNS = 100
MAX_CELL_CHARS = 10_000  # a cell is a value or a sentence; a longer text is cut, ending in "…"
MAX_COLUMN_NAME_CHARS = 200
CELL_TYPES = "a number, str, bool, None or tracker.media.Image"
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


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
        # The copy the training loop pays for: each kept cell checked and turned into a plain value.
        self._rows = [_row_cells(index, row, len(columns)) for index, row in enumerate(rows[:MAX_TABLE_ROWS])]

    def encode(self) -> Encoded:
        images = []
        rows = [[_cell_json(cell, images) for cell in row] for row in self._rows]
        document = {"columns": self.columns, "column_types": _column_types(self._rows, len(self.columns)),
                    "rows": rows}
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        fields = {"kind": self.kind, "rows": len(rows), "columns": len(self.columns),
                  "dropped_rows": self.dropped_rows, "dropped_columns": self.dropped_columns}
        return Encoded(data, "json", fields, tuple(images))


def _row_list(rows) -> tuple[list, int]:
    if rows is None:
        return [], 0
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
    if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
        raise ArgumentTypeError(f"rows[{index}]", row, f"a list of {width} cells")
    if len(row) != width:
        raise MediaValueError(f"rows[{index}]", f"has {len(row)} cells", f"{width}, one per column")
    return [_cell(index, column, cell) for column, cell in enumerate(row[:MAX_TABLE_COLUMNS])]


def _cell(row: int, column: int, cell):
    """A cell as a plain, immutable value: what the table keeps until it is encoded."""
    kind = type(cell)
    if cell is None or kind is bool or kind is float or isinstance(cell, Image):
        return cell
    if kind is int:
        return check_int_size(cell, f"rows[{row}][{column}]")
    if isinstance(cell, str):
        return bounded_text(cell, MAX_CELL_CHARS)[0]
    if isinstance(cell, (datetime.date, datetime.time)):  # pandas Timestamps are datetimes
        return cell.isoformat()
    item = getattr(cell, "item", None)
    if item is not None and module_of(cell) == "numpy":
        return _cell(row, column, item())
    if isinstance(cell, (int, float)):  # subclasses: IntEnum, NumPy's float64
        return _cell(row, column, int(cell) if isinstance(cell, int) else float(cell))
    raise ArgumentTypeError(f"rows[{row}][{column}]", cell, CELL_TYPES)


def _cell_json(cell, images: list):
    """A cell as it is stored: a JSON scalar, or an object for an image or a non-finite number."""
    if isinstance(cell, Image):
        encoded = cell.encode()
        images.append(encoded)
        return {"image": encoded.file_name, "width": cell.width, "height": cell.height, "caption": cell.caption}
    if type(cell) is float and not math.isfinite(cell):
        return {"number": NON_FINITE[repr(cell)]}
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
