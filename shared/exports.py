"""Lists as files a department opens: Excel (openpyxl) or CSV (UTF-8 with a BOM, which Excel reads
as UTF-8). The first line says what the list is and the log position it was cut at, so a printed or
mailed copy can be matched to the record."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
from typing import Any, Sequence

from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell beginning with one of these is a formula to a spreadsheet: an enterprise named
# =HYPERLINK("http://…"&A3) would send the roster's neighbouring cells away when opened (OWASP, CSV
# injection). Such text is written as text: a string cell in Excel, a leading ' in CSV.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def table_file(stamp: str, header: Sequence[str], rows: Sequence[Sequence[Any]], form: str, sheet: str) -> tuple[bytes, str]:
    """(content, content type) of the table as `form` ("xlsx" or "csv")."""
    lines = [[stamp], list(header), *[list(r) for r in rows]]
    if form == "csv":
        text = io.StringIO()
        csv.writer(text).writerows([[_as_text(v) for v in line] for line in lines])
        return text.getvalue().encode("utf-8-sig"), "text/csv"
    book = Workbook()
    page = book.active
    page.title = sheet
    for line in lines:
        page.append(line)
        for cell in page[page.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"  # openpyxl took it for a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), XLSX


def exported(filename: str, stamp: str, header: Sequence[str], rows: Sequence[Sequence[Any]], form: str, sheet: str,
             position: int) -> dict[str, Any]:
    """The answer of an export RPC: the file, base64, with its digest and the position it was cut at."""
    content, content_type = table_file(stamp, header, rows, form, sheet)
    return {"filename": f"{filename}.{form}", "content_type": content_type, "position": position, "rows": len(rows),
            "sha256": hashlib.sha256(content).hexdigest(), "content_base64": base64.b64encode(content).decode()}
