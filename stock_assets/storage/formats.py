"""File formats for stored values: JSON, CSV and Parquet, each plain enough for any reader.

Tables become Parquet, CSV (with header) or NDJSON records (one JSON object per line, dates as
ISO text), which pandas, pyarrow, DuckDB and Athena read without this project. Other JSON-ready
values (the raw answers' records) become one JSON document. Parquet output is deterministic:
the same frame gives the same bytes.
"""

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq


class UnknownFormatError(ValueError):
    """A format name this project cannot write."""


class UnreadableObjectError(ValueError):
    """Stored bytes that do not parse in the format they claim."""


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _iso_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and timestamps as ISO text, so JSON carries them readably."""
    out = frame.copy()
    for name in out.columns:
        arrow_type = getattr(out[name].dtype, "pyarrow_dtype", None)
        if pd.api.types.is_datetime64_any_dtype(out[name]) or (
            arrow_type is not None and pa.types.is_temporal(arrow_type)
        ):
            out[name] = out[name].astype("string[pyarrow]").str.replace(" 00:00:00", "")
    return out


_NDJSON = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


def _ndjson(frame: pd.DataFrame) -> bytes:
    """One JSON object per row, floats with every digit (`to_json` rounds them to 10 decimals)."""
    text = _iso_dates(frame)
    infinite = text.select_dtypes("floating").isin([np.inf, -np.inf])
    present = text.notna() & ~infinite.reindex(columns=text.columns, fill_value=False)
    rows = text.astype(object).where(present, None).to_dict(orient="records")
    return "".join(_NDJSON.encode(row) + "\n" for row in rows).encode()


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    content_type: str

    def encode(self, value: Any) -> bytes:
        if self.name == "json":
            if isinstance(value, pd.DataFrame):
                return _ndjson(value)
            return json.dumps(value, ensure_ascii=False).encode()
        if not isinstance(value, pd.DataFrame):
            raise TypeError(f"{self.name} stores tables; got {type(value).__name__}")
        sink = io.BytesIO()
        if self.name == "parquet":
            pq.write_table(_arrow(value), sink)
        else:
            pa_csv.write_csv(_arrow(value), sink)
        return sink.getvalue()

    def decode(self, data: bytes, *, as_frame: bool, columns: list[str] | None = None) -> Any:
        """The stored value; a table's `columns` alone if given (Parquet reads no others)."""
        try:
            if self.name == "parquet":
                return pq.read_table(io.BytesIO(data), columns=columns).to_pandas()
            if self.name == "csv":
                table = pa_csv.read_csv(io.BytesIO(data), convert_options=_csv_options(columns))
                return table.to_pandas()
            if as_frame:
                if not data.strip():
                    return pd.DataFrame(columns=columns)
                frame = pa_json.read_json(io.BytesIO(data)).to_pandas()
                return frame[columns] if columns else frame
            return json.loads(data)
        except (pa.ArrowException, ValueError) as exc:
            raise UnreadableObjectError(f"not valid {self.name}: {exc}") from exc


def _csv_options(columns: list[str] | None) -> pa_csv.ConvertOptions:
    """An empty field is NULL, quoted empty text: the writer quotes all text, never a NULL."""
    options = pa_csv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
    if columns:
        options.include_columns = columns
    return options


FORMATS = {
    "json": Format("json", "json", "application/json"),
    "csv": Format("csv", "csv", "text/csv"),
    "parquet": Format("parquet", "parquet", "application/vnd.apache.parquet"),
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown storage format {name!r}; choose one of {', '.join(FORMATS)}"
        ) from None
