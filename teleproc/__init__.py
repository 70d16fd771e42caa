"""teleproc: BC MSP Teleplan-style claim files, from bytes to decisions and back.

Data path: bytes -> records (layouts in formats/) -> claims -> decisions (rules + history)
-> return records -> bytes.

The public API (README.md, "Python API"; everything here is in ``__all__``)::

    import teleproc
    report = teleproc.validate("claims.txt")            # Report: .ok, .findings
    for rec in teleproc.read(b"VS1..."):                # typed records; RecordError at a bad line
        ...
    line = teleproc.build(teleproc.records.C02(phn="9151210417", fee_item="00100"))
    result = teleproc.adjudicate("claims.txt", store="state.db", new_store=True,
                                 out="return.txt", received=date(2024, 3, 5))
    for outcome in result.outcomes(): ...
"""
from __future__ import annotations

__version__ = "0.1.0"

from .data import DataError
from .errors import Finding, RecordError, TeleprocError, UsageError

try:
    # The submodules teleproc.validate and teleproc.adjudicate share their names with the API's
    # functions: import them first, so that the names bound below are the functions (Python sets
    # a package attribute only when a submodule is first imported).
    from . import adjudicate as _adjudicate_package  # noqa: F401
    from . import validate as _validate_module  # noqa: F401
    from . import records
    from .api import (Outcome, Report, Result, Store, SubmissionRejected, adjudicate, build, msoc,
                      panels, parse_line, read, validate)
    from .records import Record
    from .settings import Settings
    from .sources import Source
    from .store import StoreError
except DataError:    # no data folder: the command says so (exit 2); the API is not available
    pass

__all__ = ["DataError", "Finding", "Outcome", "Record", "RecordError", "Report", "Result", "Settings",
           "Source", "Store", "StoreError", "SubmissionRejected", "TeleprocError", "UsageError",
           "__version__", "adjudicate", "build", "msoc", "panels", "parse_line", "read", "records",
           "validate"]
