"""PAS panels from paid 98990 attachments, and panel vs MSOC (seed-rules.md 4.2, 4.3).

- A panel attachment is a claim line with fee 98990, status PAID or ADJUSTED, not reversed by
  a debit, not itself a debit line, with a DOS on or before the as-of date (R95), for a PHN
  that is a patient's (R95 "valid PHN": not in ``non_patient_phns.csv``, so never the zeros of a
  reciprocal claim nor the maternity pseudo-PHN). An attachment
  paid with PANEL_NOT_READY (R97: the provider had no PAS registration or bulk upload yet) is
  queued, not applied, so it is not on a panel.
- Attachments are replayed in date order (then decision order). A repeat attachment of a
  patient already on the same panel changes nothing (R96, counted as a repeat). An attachment
  of a patient already on another provider's panel adds the patient to this panel too and is
  reported as a later attachment (R96, A52: the seeds say nothing on exclusivity, and removal
  happens only in PAS, never through a claim, so the first panel keeps the patient).
- Panel vs MSOC uses the MSOC attribution of the 12 months ending on the as-of date (the same
  window ``teleproc msoc --period-end AS_OF`` uses), so the two reports agree.

The store holds no bulk-upload baseline and no PAS removals, so a panel here is "patients
attached through claims" (4.3 report 2 without its external parts).
"""
from __future__ import annotations

from collections import Counter
from datetime import date

import attrs

from teleproc import store
from teleproc.analytics.msoc import Attribution, non_patient_phns
from teleproc.tables import read_table

_ATTACHMENTS_SQL = """
SELECT practitioner, phn FROM claim_lines
WHERE fee IN ({fees}) AND status IN ({paid}) AND reversed_by IS NULL AND kind <> 'debit'
  AND dos IS NOT NULL AND dos <= ? AND reasons NOT LIKE '%PANEL_NOT_READY%'
ORDER BY dos, line_id
"""


def attachment_fees() -> list[str]:
    """The $0 PAS attachment code(s): program ``pas_attachment`` in fee_schedule.csv (98990,
    000_fcda47c51fff48fc.txt L50; seed-rules.md R95)."""
    return sorted({row["fee"] for row in read_table("fee_schedule")
                   if row["program"] == "pas_attachment"})


@attrs.define(slots=True)
class Panels:
    members: dict = attrs.Factory(dict)        # practitioner -> set of PHNs (confidential)
    attachments: Counter = attrs.Factory(Counter)   # paid 98990 lines per practitioner
    repeats: Counter = attrs.Factory(Counter)       # ... for a patient already on that panel
    later: Counter = attrs.Factory(Counter)         # ... for a patient already on another panel

    def panels_of(self) -> dict[str, set]:
        """PHN -> the practitioners whose panel holds it."""
        out: dict[str, set] = {}
        for pr, phns in self.members.items():
            for phn in phns:
                out.setdefault(phn, set()).add(pr)
        return out


def latest_dos(conn) -> date | None:
    """The default as-of date: the latest valid DOS in the store (None when it is empty). A
    rejected claim may keep digits that are no date (20241399): such values are skipped, as the
    dataset's null ``dos`` is on the SQL engines."""
    value = store.latest_dos(conn)
    try:
        return store.from_ymd(value)
    except ValueError:
        pass
    for (v,) in conn.execute("SELECT DISTINCT dos FROM claim_lines WHERE dos IS NOT NULL "
                             "ORDER BY dos DESC"):
        try:
            return store.from_ymd(v)
        except ValueError:
            continue
    return None


def build_panels(conn, as_of: date) -> Panels:
    panels = Panels()
    on_a_panel: set[str] = set()
    fees = attachment_fees()
    nobody = non_patient_phns()            # R95: a valid PHN, not a pseudo-PHN or zeros
    sql = _ATTACHMENTS_SQL.format(fees=",".join("?" * len(fees)),
                                  paid=",".join("?" * len(store.PAID_STATUSES)))
    for pr, phn in conn.execute(sql, (*fees, *store.PAID_STATUSES, store.ymd(as_of))):
        if phn in nobody:
            continue
        panels.attachments[pr] += 1
        members = panels.members.setdefault(pr, set())
        if phn in members:
            panels.repeats[pr] += 1
            continue
        if phn in on_a_panel:
            panels.later[pr] += 1
        members.add(phn)
        on_a_panel.add(phn)
    return panels


@attrs.define(slots=True, frozen=True)
class ProviderRow:
    practitioner: str
    panel: frozenset          # PHNs on the panel
    shared: frozenset         # ... that are also on another provider's panel
    msoc: frozenset           # MSOC patients of this practitioner
    attachments: int
    repeats: int
    later: int

    @property
    def panel_not_msoc(self) -> frozenset:
        return self.panel - self.msoc

    @property
    def msoc_not_panel(self) -> frozenset:
        return self.msoc - self.panel


def compare(panels: Panels, attribution: Attribution) -> list[ProviderRow]:
    """One row per practitioner with a panel or MSOC patients, by practitioner number."""
    panels_of = panels.panels_of()
    msoc_of = attribution.patients_of()
    rows = []
    for pr in sorted(set(panels.members) | set(msoc_of)):
        panel = frozenset(panels.members.get(pr, ()))
        rows.append(ProviderRow(
            practitioner=pr, panel=panel,
            shared=frozenset(p for p in panel if len(panels_of[p]) > 1),
            msoc=frozenset(msoc_of.get(pr, ())),
            attachments=panels.attachments[pr], repeats=panels.repeats[pr],
            later=panels.later[pr]))
    return rows
