"""Posts as spreadsheet rows: read a CSV file into posts, write posts as one.

One row is one post, with the columns of COLUMNS. Objectives and channels are named
by name or id, several in one cell separated by `;`. A `scheduled_at` without an
offset is a local time in the row's `timezone` (or the importer's own zone).

Everything here is linear in the size of the file: the csv module reads it once, the
delimiter is decided from the header line alone (no csv.Sniffer, whose regular
expressions run over a sample of the file), and names are looked up in dictionaries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from app.errors import FieldProblem
from app.posts.schemas import PostCreate
from app.spreadsheet import FORMULA_STARTS

COLUMNS = ("text", "scheduled_at", "objectives", "channels", "title", "link", "timezone", "status")
# Rows one file may hold: a year of ten posts a day, with room to spare.
MAX_ROWS = 10_000
# The post field a problem names -> the column it came from.
FIELD_COLUMNS = {
    "objective_ids": "objectives",
    "channel_ids": "channels",
    "publish_now": "scheduled_at",
    "media_ids": "text",
}


@dataclass(frozen=True)
class RowProblem:
    """A problem of one cell: `row` 1 is the first data row (0: the file or its
    header), `line` the line of the file the row starts on."""

    row: int
    line: int
    column: str
    msg: str

    def as_dict(self) -> dict[str, object]:
        return {
            "loc": ["body", self.row, self.column],
            "msg": self.msg,
            "type": "value_error",
            "row": self.row,
            "line": self.line,
            "column": self.column,
        }


@dataclass
class SheetRow:
    row: int
    line: int
    cells: dict[str, str]


@dataclass
class Sheet:
    """A file read: its rows, and the problems found reading it."""

    columns: list[str] = field(default_factory=list)
    rows: list[SheetRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


# Formula escaping (app/spreadsheet.py) made reversible, so an export re-imports
# unchanged: a cell whose text after its leading quotes starts like a formula gets
# one more quote on the way out and loses one on the way in.
def _formula_like(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_STARTS)


def escape_cell(value: str) -> str:
    return "'" + value if _formula_like(value) else value


def unescape_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and _formula_like(value) else value


def decode(data: bytes) -> str | None:
    """UTF-8 text, without its byte order mark; None when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _header_names(line: str, delimiter: str) -> list[str]:
    return [name.strip().strip('"').strip().lower() for name in line.split(delimiter)]


def delimiter_of(text: str) -> str:
    """`;` or `,`: the one that splits the header line into more known column names."""
    header = text.split("\n", 1)[0]
    known = {d: sum(n in COLUMNS for n in _header_names(header, d)) for d in (";", ",")}
    return ";" if known[";"] > known[","] else ","


def _header(record: list[str], sheet: Sheet) -> None:
    names = [name.strip().lower() for name in record]
    for name in names:
        if not name:
            pass  # an empty header cell (a trailing separator) names no column
        elif name not in COLUMNS:
            sheet.problems.append(
                RowProblem(0, 1, name, f"unknown column {name!r}; use {', '.join(COLUMNS)}")
            )
        elif names.count(name) > 1 and name not in sheet.columns:
            sheet.problems.append(RowProblem(0, 1, name, "the column appears twice"))
        sheet.columns.append(name)
    if "text" not in names:
        sheet.problems.append(RowProblem(0, 1, "text", "the header has no text column"))


def _data(line: int, record: list[str], sheet: Sheet) -> None:
    number = len(sheet.rows) + 1
    if len(record) > len(sheet.columns):
        sheet.problems.append(
            RowProblem(
                number,
                line,
                "",
                f"{len(record)} cells, but the header names {len(sheet.columns)} columns",
            )
        )
    cells = {
        name: record[i] if i < len(record) else "" for i, name in enumerate(sheet.columns) if name
    }
    sheet.rows.append(SheetRow(number, line, cells))


def read(data: bytes) -> Sheet:
    """The rows of a CSV file (UTF-8, with or without BOM, `,` or `;` separated)."""
    sheet = Sheet()
    text = decode(data)
    if text is None:
        sheet.problems.append(RowProblem(0, 1, "", "the file is not UTF-8 text"))
        return sheet
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text), strict=True)
    start = 1  # the line the next record starts on
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue  # blank lines are no rows
            if not sheet.columns:
                _header(record, sheet)
            elif len(sheet.rows) >= MAX_ROWS:
                sheet.problems.append(
                    RowProblem(len(sheet.rows) + 1, line, "", f"at most {MAX_ROWS} rows a file")
                )
                break
            else:
                _data(line, record, sheet)
    except csv.Error as exc:
        # e.g. a quote left open: named from the line its record starts on.
        sheet.problems.append(RowProblem(len(sheet.rows) + 1, start, "", str(exc)))
    if not sheet.columns:
        sheet.problems.append(RowProblem(0, 1, "", "the file is empty; it needs a header row"))
    elif not sheet.rows and not sheet.problems:
        sheet.problems.append(RowProblem(0, 1, "", "the file has a header but no rows"))
    return sheet


class Names:
    """Rows (objectives or channels) found by id, or by name ignoring case."""

    def __init__(self, kind: str, rows: Iterable[Any]) -> None:
        self.kind = kind
        self.by_id: dict[str, Any] = {}
        self.by_name: dict[str, list[Any]] = {}
        for row in rows:
            self.by_id[row.id] = row
            self.by_name.setdefault(row.name.strip().casefold(), []).append(row)

    def find(self, cell: str) -> tuple[list[str], list[str]]:
        """The ids a cell names, and a message for each part that names none or several."""
        ids: list[str] = []
        problems: list[str] = []
        for part in (p.strip() for p in cell.split(";")):
            if not part:
                continue
            if part in self.by_id:
                ids.append(part)
                continue
            found = self.by_name.get(part.casefold(), [])
            if len(found) == 1:
                ids.append(found[0].id)
            elif found:
                problems.append(f"{len(found)} {self.kind}s are called {part!r}; give the id")
            else:
                problems.append(f"no {self.kind} has the name or id {part!r}")
        return ids, problems

    def label(self, row: Any) -> str:
        """How an export names a row: its name, unless that would not find it again."""
        name = row.name
        unique = len(self.by_name.get(name.strip().casefold(), [])) == 1
        plain = ";" not in name and name == name.strip() and name not in self.by_id
        return name if unique and plain and not _formula_like(name) else row.id


def _zone(name: str, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    # OSError: a directory of the zone database ("Europe") is not a zone.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


def parse_time(value: str, zone_name: str, default_zone: str) -> datetime | None:
    """A time with an offset, or a local one in the zone; None for an empty cell."""
    value = value.strip()
    if not value:
        return None
    if len(value) > 40:
        raise ValueError("is not a date and time")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            "must be ISO 8601, like 2026-12-01 09:30 or 2026-12-01T09:30:00+01:00"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=_zone(zone_name, default_zone))
    try:
        return when.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the range of supported times") from exc


@dataclass
class Planned:
    """Rows turned into posts: the posts, the row each came from, the problems."""

    items: list[PostCreate] = field(default_factory=list)
    rows: list[SheetRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _fields(
    row: SheetRow, objectives: Names, channels: Names, default_zone: str
) -> tuple[dict[str, Any], list[RowProblem]]:
    cells = row.cells
    problems: list[RowProblem] = []

    def bad(column: str, msg: str) -> None:
        problems.append(RowProblem(row.row, row.line, column, msg))

    objective_ids, missing = objectives.find(cells.get("objectives", ""))
    for msg in missing:
        bad("objectives", msg)
    channel_ids, missing = channels.find(cells.get("channels", ""))
    for msg in missing:
        bad("channels", msg)
    zone = cells.get("timezone", "").strip()
    scheduled_at = None
    try:
        _zone(zone, default_zone)
    except ValueError as exc:
        bad("timezone", str(exc))
    else:
        try:
            scheduled_at = parse_time(cells.get("scheduled_at", ""), zone, default_zone)
        except ValueError as exc:
            bad("scheduled_at", str(exc))
    data = {
        "text": unescape_cell(cells.get("text", "")),
        "title": unescape_cell(cells.get("title", "")) or None,
        "link": cells.get("link", "").strip() or None,
        "objective_ids": objective_ids,
        "channel_ids": channel_ids,
        "scheduled_at": scheduled_at,
        "status": cells.get("status", "").strip().lower() or "scheduled",
    }
    return data, problems


def plan(
    rows: Sequence[SheetRow], objectives: Names, channels: Names, default_zone: str
) -> Planned:
    """The posts the rows describe, each checked as POST /posts checks its body."""
    planned = Planned()
    for row in rows:
        data, problems = _fields(row, objectives, channels, default_zone)
        try:
            item = PostCreate.model_validate(data)
        except ValidationError as exc:
            problems += [
                RowProblem(row.row, row.line, column_of(err["loc"]), err["msg"])
                for err in exc.errors()
            ]
        if problems:
            planned.problems += problems
        else:
            planned.items.append(item)
            planned.rows.append(row)
    return planned


def column_of(loc: Sequence[str | int]) -> str:
    name = str(loc[0]) if loc else "text"
    return FIELD_COLUMNS.get(name, name)


def post_problems(planned: Planned, problems: Iterable[FieldProblem]) -> list[RowProblem]:
    """The problems of POST /posts/batch (`body.posts.<i>.<field>`) as cells of rows."""
    out = []
    for problem in problems:
        index = problem.loc[2] if len(problem.loc) > 2 else None
        if isinstance(index, int) and 0 <= index < len(planned.rows):
            row = planned.rows[index]
            out.append(RowProblem(row.row, row.line, column_of(problem.loc[3:]), problem.msg))
        else:
            out.append(RowProblem(0, 1, "", problem.msg))
    return sorted(
        out, key=lambda p: (p.row, COLUMNS.index(p.column) if p.column in COLUMNS else 99)
    )


def write(rows: Iterable[Sequence[str]]) -> str:
    """A CSV file with the header row, comma separated, lines ended by CRLF (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
