"""The kit: the case catalogue (formats/conformance/hibc.toml) made concrete for one vendor
(``conformance init`` -> DIR/scenarios.toml), read back, and turned into records.

scenarios.toml, format 1 (documented in DIR/README.md and the project README):

* ``format = 1``; ``[kit]`` profile, revision, data_centre, payee, practitioner, payment_date,
  first_seq, categories; ``[kit.vendor]`` what the reference files put in the VS1;
* ``[defaults.C02]`` / ``[defaults.N01]`` / ``[defaults.B04]``: field values every record of
  that type takes unless its case says otherwise;
* ``[[file]]``: one per submission file, ``category``, ``name`` (NN-<category>.txt) and the
  pinned ``received`` date;
* ``[[category]]``: ``n`` (HIBC's numbering, conformance.md 1.2), ``title``, ``host`` (what the
  real test host answered in 2026, informative), ``pitfall``, ``host_only``;
* ``[[case]]``: ``id`` ("03.2"), ``category``, ``title``, ``folio`` (a 7-digit string, the
  office folio P54 the vendor's claim must carry; none for host-only cases), ``record``
  (C02 or B04), ``patient`` (in words), ``enter`` (field values in ``teleproc parse`` form:
  what the record must hold), ``note`` (an N01 follows), ``reverses`` (a debit's original) with
  ``original_reference`` (the exact P64 to enter), ``expect`` ("accepted", "b14" or
  ``{ rejected = [codes] }``);
* ``[[original]]``: claims billed in the category 1 file that the debit cases reverse (not
  cases: breaking a category 1 case never affects category 9);
* ``[[negative]]``: N.01-N.06, each with its own file, ``expect = { rejected = [code] }``.
"""
from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import attrs

from ..errors import UsageError
from .. import data

FORMAT = 1
CATALOGUE = "hibc.toml"
ALL_CATEGORIES = tuple(range(1, 14))
HOST_ONLY_CATEGORY = 11


def catalogue_bytes() -> bytes:
    return data.read_bytes(f"conformance/{CATALOGUE}")


@attrs.define
class Case:
    id: str
    category: int | str            # 1-13, or "negative"
    title: str
    folio: str | None
    record: str | None              # "C02" | "B04" | None (host-only)
    enter: dict
    expect: object                  # "accepted" | "b14" | {"rejected": [...]} | "host-only"
    patient: str = ""
    note: str | None = None
    reverses: str | None = None     # id of the [[original]] a debit case reverses
    original_reference: str | None = None
    kind: str = ""                  # negatives: what is broken

    @property
    def host_only(self) -> bool:
        return self.record is None

    @property
    def negative(self) -> bool:
        return self.category == "negative"


@attrs.define
class Kit:
    profile: str
    revision: str
    data_centre: str
    payee: str
    practitioner: str
    payment_date: str
    first_seq: int
    categories: tuple
    vendor: dict
    defaults: dict
    files: list                      # dicts: category, name, received
    category_info: dict              # n -> dict(title, slug, host, pitfall, host_only)
    cases: list
    originals: list
    negatives: list
    path: Path | None = None

    def file_for(self, category: int) -> dict | None:
        for f in self.files:
            if f["category"] == category:
                return f
        return None

    def by_folio(self) -> dict:
        out = {}
        for c in (*self.cases, *self.originals, *self.negatives):
            if c.folio:
                out[c.folio] = c
        return out

    def case(self, case_id: str) -> Case:
        for c in (*self.cases, *self.originals, *self.negatives):
            if c.id == case_id:
                return c
        raise KeyError(case_id)


def parse_categories(text: str | None) -> tuple:
    """'1-3,5' -> (1, 2, 3, 5); None -> all 13."""
    if not text:
        return ALL_CATEGORIES
    out = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if a > b:
                    raise ValueError
                out.update(range(a, b + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise UsageError(f"--categories {text!r}: expected a list such as 1-3,5") from None
    bad = sorted(n for n in out if n not in ALL_CATEGORIES)
    if bad:
        raise UsageError(f"--categories {text!r}: categories are 1-13 (not {', '.join(map(str, bad))})")
    return tuple(sorted(out))


def _check_id(value: str, what: str, length: int) -> str:
    if len(value) != length or not value.isascii() or not value.isalnum():
        raise UsageError(f"{what} {value!r}: expected {length} letters or digits")
    return value.upper()


def _folio(category: int, k: int) -> str:
    return f"{category:02d}{k:05d}"


def build_kit(data_centre=None, payee=None, practitioner=None, categories=None) -> Kit:
    """The kit of the catalogue for this vendor (what ``init`` writes)."""
    raw = tomllib.loads(catalogue_bytes().decode("utf-8"))
    dc = _check_id(data_centre or raw["data_centre"], "--data-centre", 5)
    payee = _check_id(payee or raw["payee"], "--payee", 5)
    prac = _check_id(practitioner or raw["practitioner"], "--practitioner", 5)
    cats = tuple(categories or ALL_CATEGORIES)
    info, cases, originals, files = {}, [], [], []
    for cat in raw["category"]:
        n = cat["n"]
        info[n] = {k: cat.get(k, "") for k in ("slug", "title", "host", "pitfall")}
        info[n]["host_only"] = bool(cat.get("host_only", False))
        if n == 1:
            for k, o in enumerate(cat.get("original", ()), 1):
                originals.append(Case(f"O.{k}", 1, o["title"], _folio(1, 100 + k), "C02",
                                      _with_ids(o["enter"], payee, prac), "accepted", o.get("patient", "")))
        if n not in cats:
            continue
        record = None if info[n]["host_only"] else cat.get("record", "C02")
        for k, c in enumerate(cat["case"], 1):
            enter = {} if record is None else _with_ids(c.get("enter", {}), payee, prac, b04=record == "B04")
            expect = "host-only" if record is None else ("b14" if record == "B04" else "accepted")
            cases.append(Case(f"{n:02d}.{k}", n, c["title"], None if record is None else _folio(n, k), record,
                              enter, expect, c.get("patient", ""), c.get("note"),
                              f"O.{c['reverses']}" if "reverses" in c else None))
    # the category 1 file carries the originals when debit cases are selected
    file_cats = [n for n in ALL_CATEGORIES if not info[n]["host_only"] and (n in cats or (n == 1 and 9 in cats))]
    for n in file_cats:
        files.append({"category": n, "name": f"{n:02d}-{info[n]['slug']}.txt",
                      "received": raw_received(raw, n)})
    if 9 not in cats:
        originals = []
    negatives = []
    for k, neg in enumerate(raw.get("negative", ()), 1):
        negatives.append(Case(neg["id"], "negative", neg["title"], _folio(99, k), "C02",
                              _with_ids(neg["enter"], payee, prac), {"rejected": list(neg["expect"])},
                              neg.get("patient", ""), neg.get("note"), kind=neg["kind"]))
    kit = Kit(raw["profile"], raw["revision"], dc, payee, prac, raw["payment_date"], raw["first_seq"], cats,
              dict(raw["vendor"]), {k: dict(v) for k, v in raw["defaults"].items()}, files, info, cases,
              originals, negatives)
    # the exact original-claim reference (P64) each debit case must enter: from the reference numbering
    from .generate import reference_numbering
    seqs = reference_numbering(kit)
    for c in kit.cases:
        if c.reverses:
            o = kit.case(c.reverses)
            received = kit.file_for(1)["received"].replace("-", "")
            c.original_reference = f"{dc}{seqs[o.id]:07d}{received}"
            c.enter["original_msp_file"] = c.original_reference
    return kit


def raw_received(raw: dict, n: int) -> str:
    for cat in raw["category"]:
        if cat["n"] == n:
            return cat["received"]
    raise KeyError(n)


def _with_ids(enter: dict, payee: str, prac: str, b04: bool = False) -> dict:
    out = {"payee": payee} if b04 else {"payee": payee, "practitioner": prac}
    out.update(enter)
    return out


# --- scenarios.toml: write and read ---------------------------------------------------------------
def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)          # a JSON string of ASCII is a TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def scenarios_toml(kit: Kit) -> str:
    out = [
        "# teleproc conformance kit, scenarios format 1 (see README.md beside this file).",
        "# One [[case]] per transaction: enter in your billing software what `enter` and `note` say,",
        "# give the claim the office folio `folio`, submit one file per category in [[file]] order, then",
        "#   teleproc conformance run THIS_FOLDER FILE... --out BUNDLE",
        "# Values are in `teleproc parse` form (money \"32.08\", dates \"YYYY-MM-DD\"); field names are the",
        "# layout names of formats/C02.toml, N01.toml and B04.toml. A local pass is a rehearsal, not HIBC approval.",
        f"format = {FORMAT}",
        "",
        "[kit]",
    ]
    for k in ("profile", "revision", "data_centre", "payee", "practitioner", "payment_date", "first_seq"):
        out.append(f"{k} = {_value(getattr(kit, k))}")
    out.append(f"categories = {_value(list(kit.categories))}")
    out.append(f"vendor = {_value(kit.vendor)}")
    for rec, vals in kit.defaults.items():
        out += ["", f"[defaults.{rec}]"] + [f"{k} = {_value(v)}" for k, v in vals.items()]
    for f in kit.files:
        out += ["", "[[file]]"] + [f"{k} = {_value(v)}" for k, v in f.items()]
    for n, i in kit.category_info.items():
        out += ["", "[[category]]", f"n = {n}"] + [f"{k} = {_value(v)}" for k, v in i.items()]
    for c in kit.cases:
        out += ["", "[[case]]"] + _case_lines(c)
    for c in kit.originals:
        out += ["", "[[original]]"] + _case_lines(c)
    for c in kit.negatives:
        out += ["", "[[negative]]"] + _case_lines(c)
    return "\n".join(out) + "\n"


def _case_lines(c: Case) -> list:
    lines = [f"id = {_value(c.id)}"]
    if not c.negative:
        lines.append(f"category = {c.category}")
    lines.append(f"title = {_value(c.title)}")
    if c.kind:
        lines.append(f"kind = {_value(c.kind)}")
    if c.folio:
        lines.append(f"folio = {_value(c.folio)}")
    lines.append(f"record = {_value(c.record or 'host-only')}")
    if c.patient:
        lines.append(f"patient = {_value(c.patient)}")
    if c.reverses:
        lines.append(f"reverses = {_value(c.reverses)}")
        lines.append(f"original_reference = {_value(c.original_reference)}")
    if c.note:
        lines.append(f"note = {_value(c.note)}")
    lines.append(f"expect = {_value(c.expect)}")
    if c.enter:
        lines.append(f"enter = {_value(c.enter)}")
    return lines


def load(directory: str | Path) -> Kit:
    """DIR/scenarios.toml -> Kit. UsageError (exit 2) naming the file on any defect."""
    path = Path(directory) / "scenarios.toml"
    if not path.is_file():
        raise UsageError(f"{path}: no such file (create the kit with `teleproc conformance init {directory}`)")
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid TOML ({e})") from None
    if raw.get("format") != FORMAT:
        raise UsageError(f"{path}: scenarios format {raw.get('format')!r} is not supported (expected {FORMAT})")
    try:
        k = raw["kit"]
        info = {c["n"]: {x: c.get(x, "") for x in ("slug", "title", "host", "pitfall")} | {"host_only": bool(c.get("host_only"))}
                for c in raw.get("category", ())}

        def case(c, category):
            record = c.get("record", "C02")
            return Case(c["id"], category if category is not None else c["category"], c["title"], c.get("folio"),
                        None if record == "host-only" else record, dict(c.get("enter", {})), c["expect"],
                        c.get("patient", ""), c.get("note"), c.get("reverses"), c.get("original_reference"),
                        c.get("kind", ""))
        kit = Kit(k["profile"], k["revision"], k["data_centre"], k["payee"], k["practitioner"], k["payment_date"],
                  int(k.get("first_seq", 1)), tuple(k["categories"]), dict(k.get("vendor", {})),
                  {r: dict(v) for r, v in raw.get("defaults", {}).items()}, [dict(f) for f in raw.get("file", ())],
                  info, [case(c, None) for c in raw.get("case", ())], [case(c, 1) for c in raw.get("original", ())],
                  [case(c, "negative") for c in raw.get("negative", ())], path)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{path}: missing or bad entry {e}") from None
    _validate(kit, path)
    return kit


def _validate(kit: Kit, path: Path) -> None:
    seen = {}
    for c in (*kit.cases, *kit.originals, *kit.negatives):
        if c.folio is not None:
            if not (isinstance(c.folio, str) and len(c.folio) == 7 and c.folio.isdigit()):
                raise UsageError(f"{path}: case {c.id}: folio must be a string of 7 digits, not {c.folio!r}")
            if c.folio in seen:
                raise UsageError(f"{path}: folio {c.folio} is used by {seen[c.folio]} and {c.id}")
            seen[c.folio] = c.id
        elif not c.host_only:
            raise UsageError(f"{path}: case {c.id}: a folio is required")
    try:
        date.fromisoformat(kit.payment_date)
        for f in kit.files:
            date.fromisoformat(f["received"])
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{path}: a date is not YYYY-MM-DD ({e})") from None
