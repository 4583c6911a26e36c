"""Readers and writers: block-chunked CSV (:mod:`blockops.io.csv`) and ONE simulator reports
(:mod:`blockops.io.reports`)."""
from __future__ import annotations

from .csv import (
    DEFAULT_NA_VALUES,
    EXPANSION,
    MAX_BLOCKS_IN_FLIGHT,
    CsvBadLineWarning,
    CsvBlockReader,
    CsvStats,
    parse_size,
    read_csv,
)
from .reports import (
    ID_COLUMNS,
    ReportParseError,
    ReportWarning,
    average_reports,
    parse_report_name,
    read_one_reports,
    write_averages,
)

__all__ = [
    "DEFAULT_NA_VALUES",
    "EXPANSION",
    "MAX_BLOCKS_IN_FLIGHT",
    "CsvBadLineWarning",
    "CsvBlockReader",
    "CsvStats",
    "parse_size",
    "read_csv",
    "ID_COLUMNS",
    "ReportParseError",
    "ReportWarning",
    "average_reports",
    "parse_report_name",
    "read_one_reports",
    "write_averages",
]
