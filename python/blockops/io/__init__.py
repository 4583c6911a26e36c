"""Readers and writers: ONE simulator reports (:mod:`blockops.io.reports`)."""
from __future__ import annotations

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
    "ID_COLUMNS",
    "ReportParseError",
    "ReportWarning",
    "average_reports",
    "parse_report_name",
    "read_one_reports",
    "write_averages",
]
