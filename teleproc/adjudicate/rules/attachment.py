"""PAS attachment 98990 (seed-rules.md 2.10). Always $0 (fee_schedule.csv; billed more ->
ADJUSTED to 0); the pseudo-PHN case is general R30. GPSC eligibility rules do not apply (R95)."""
from __future__ import annotations

from teleproc.trace import line_ref

from ..history import LID, STATUS
from .base import rule

PROGRAM = "pas_attachment"      # fee_schedule.csv program of the $0 attachment code(s), as analytics.panel


@rule("R95", fees=lambda t: t.programs.get(PROGRAM, ()))
def panel(c, k):
    """R95 - accepted at $0; the paid line is the panel event ADD(practitioner, PHN, DOS).
    R96 - the PHN already attached to this practitioner by an earlier 98990 (a fee of program
    pas_attachment in fee_schedule.csv) -> PANEL_DUP (paid $0, no new event). R97 - practitioner not PAS-registered or without the initial bulk upload
    (registry) -> PANEL_NOT_READY (paid $0, the event waits)."""
    attachment = k.tables.programs[PROGRAM]
    for ln in k.hist.lines(c.phn, attachment, prac=c.prac, billed=True):
        if ln[STATUS] in ("PAID", "ADJUSTED") and ln[LID] not in k.hist.reversed:
            c.adjust("R96", "PANEL_DUP", {"line": line_ref(ln)})
            return None
    p = k.registry.practitioner(c.prac)
    if p is not None and (p.pas_registered is False or p.pas_bulk_upload is False):
        c.adjust("R97", "PANEL_NOT_READY", {"practitioner": c.prac, "source": "registry",
                                            "flags": [n for n in ("pas_registered", "pas_bulk_upload")
                                                      if getattr(p, n) is False]})
        return None
    c.adjust("R95", "PANEL_ADD")
    return None
