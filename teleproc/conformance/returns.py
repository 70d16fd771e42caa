"""``teleproc conformance returns`` (a return pack for testing a vendor's remittance reader) and
``teleproc conformance pickup`` (the vendor's reading of return files against teleproc's).

The pack: two return files that together hold every return record type the spec defines
(C12, M01, B14, S00, S01, S02, S03, S04, S21, S22, S23, S24, S25, VRC, VTC), positive and
negative amounts (a debit reversal, negative adjustments), two payees, a claim held (S04 BH)
in the first file and paid on the second file's remittance. Every file is valid (the
validator finds nothing) and balanced: VRC and VTC counts right, S21 / S22 totals equal to
their claim lines (S04's billed amount is not in its record: the pack knows it), cheque + new
balance - balance forward = paid + adjustments made. Beside each ``X.txt``, ``X.jsonl`` is
exactly what ``teleproc parse X.txt`` prints. S00 and B14, whose layouts the spec gives only in
part, are filled as far as it describes them.
"""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

from ..codec import parse_line
from ..errors import RecordError, UsageError
from ..io import read_lines
from ..jsonl import to_json
from ..records import RECORD_CLASSES as R
from ..remit import cheque_accounts_for
from ..validate import FileReader
from . import bundle as B
from .answers import CLAIM_ANSWERS, claim_answers, read_answers

DC = "V1234"
CLAIM_LINES = tuple(c for c in CLAIM_ANSWERS if c != "C12")    # the remittance's claim lines


def _line(kind: str, **v) -> str:
    return R[kind](**v).line


def _claim(kind, payee, prac, seq, folio, billed, paid, pay_date, *, codes=(), units=1, fee="00100",
           adj=(), received=date(2026, 11, 2), phn="9151210417", initials="RG", surname="BU",
           previous_paid=None) -> tuple[str, str, int, int]:
    """(line, practitioner, billed, paid) of one claim line."""
    head = dict(data_centre=DC, dc_seq=seq, payment_date=pay_date, payee=payee, practitioner=prac, folio=folio)
    exp = {f"exp{i}": c for i, c in enumerate(codes, 1)}
    adjs = {}
    for i, (c, a) in enumerate(adj, 1):
        adjs[f"adj{i}_code"], adjs[f"adj{i}_amount"] = c, a
    if kind == "S01":
        line = _line("S01", line_type="P", paid_amount=paid, received_date=received, **head, **adjs)
    elif kind == "S04":
        line = _line("S04", line_type="H", received_date=received, **head, **exp)
    else:
        line = _line(kind, line_type="R" if kind == "S03" else "P", received_date=received, patient_initials=initials,
                     patient_surname=surname, phn=phn, dependent=0, service_date=date(2026, 10, 5),
                     billed_units=units, billed_fee=fee, billed_amount=billed, paid_units=units if paid else 0,
                     paid_fee=fee, paid_amount=paid, plan_reference="0000000000", claim_source="0",
                     previous_paid_date=previous_paid, **head, **exp, **adjs)
    return line, prac, billed, paid


def _remittance(payee, name, pay_date, claims, pracs, adjustments=(), messages=(), created=None) -> list[str]:
    """S21, claim lines, S22 per practitioner, S23/S24, S25, VRC; totals from the lines."""
    billed = sum(c[2] for c in claims)
    paid = sum(c[3] for c in claims)
    adj_total = sum(a[3] for a in adjustments)
    cheque = max(paid + adj_total, 0)
    head = dict(data_centre=DC, dc_seq=0, payment_date=pay_date, payee=payee)
    lines = [None]
    control = 1
    for c in claims:
        control += 1
        lines.append(c[0][:29] + f"{control:06d}" + c[0][35:])
    for prac in pracs:
        control += 1
        mine = [c for c in claims if c[1] == prac]
        lines.append(_line("S22", line_type="Y", control_no=control, practitioner=prac, practitioner_name=pracs[prac],
                           amount_billed=sum(c[2] for c in mine), amount_paid=sum(c[3] for c in mine), **head))
    for kind, code, desc, amount in adjustments:
        control += 1
        lines.append(_line(kind, line_type="A" if kind == "S23" else "S", control_no=control, adj_code=code,
                           adj_id=payee, adj_description=desc, calc_method="A", regular_percent="00000",
                           one_time_percent="00000", gross_amount=0, regular_amount=amount, one_time_amount=0,
                           balance_forward=0, adjustment_made=amount, adjustment_outstanding=0, **head))
    for text in messages:
        control += 1
        lines.append(_line("S25", line_type="B", control_no=control, practitioner="00000", message=text, **head))
    lines[0] = _line("S21", line_type="Z", control_no=1, payee_name=name, amount_billed=billed, amount_paid=paid,
                     balance_forward=0, cheque_amount=cheque, new_balance=paid + adj_total - cheque, **head)
    lines.append(_line("VRC", data_centre=DC, payment_date=pay_date, record_class="S", record_count=len(lines),
                       created=created))
    return lines


def _file(daily: list[str], remittances: list[list[str]], created: datetime) -> list[str]:
    lines = daily + [x for r in remittances for x in r]
    counts = {"S": sum(1 for x in lines if x.startswith("S")), "C": sum(1 for x in lines if x.startswith("C12")),
              "B": sum(1 for x in lines if x.startswith("B14")), "M": sum(1 for x in lines if x.startswith("M01")),
              "X": 0, "V": len(remittances) + 1}
    v = {"data_centre": DC, "created": created, "total": len(lines) + 1}
    for i, cls in enumerate(("S", "C", "B", "M", "X", "V"), 1):
        v[f"class{i}"], v[f"count{i}"] = cls, counts[cls]
    for i in range(7, 12):
        v[f"class{i}"], v[f"count{i}"] = "", 0
    return lines + [_line("VTC", **v)]


def pack() -> list[tuple[str, list[str]]]:
    """[(file name, lines)] of the return pack."""
    p1, p2 = date(2026, 11, 30), date(2026, 12, 14)
    t1, t2 = datetime(2026, 11, 30), datetime(2026, 12, 14)
    daily = [
        _line("M01", data_centre=DC, unknown="0000", message="THE NEXT CLOSE-OFF FOR PAYMENT IS DECEMBER 14, 2026 "
                                                              "AT 7:00 P.M"),
        _line("C12", data_centre=DC, dc_seq=101, payee="12345", practitioner="12345", exp1="AA", folio=200001),
        _line("C12", data_centre=DC, dc_seq=102, payee="12345", practitioner="12346", exp1="AB", exp2="CP",
              exp3="BJ", folio=200002),
        _line("B14", data_centre=DC, dc_seq=103, name_verify="RGBU", service_date=date(2026, 11, 2),
              response_code="ZM", unknown="00000000", text="COVERAGE GOOD", payee="12345", folio=200003),
        _line("B14", data_centre=DC, dc_seq=104, name_verify="AMTE", service_date=date(2026, 11, 2),
              response_code="AB", unknown="00000000", text="REJECTED - CODE: AB", payee="12345", folio=200004),
    ]
    a = [
        _claim("S01", "12345", "12345", 110, 200010, 3208, 3208, p1, adj=(("36", 1), ("31", -124))),
        _claim("S01", "12345", "12346", 111, 200011, 7134, 7134, p1),
        _claim("S02", "12345", "12345", 112, 200012, 7134, 3208, p1, codes=("BG",), fee="00101"),
        _claim("S03", "12345", "12346", 113, 200013, 3208, 0, p1, codes=("AA", "AB")),
        _claim("S04", "12345", "12345", 114, 200014, 3208, 0, p1, codes=("BH",)),
        _claim("S00", "12345", "12345", 115, 200015, 3208, 3208, p1),
        _claim("S02", "12345", "12346", 116, 200016, -3208, -3208, p1, codes=("D3",), units=-1,
               previous_paid=date(2026, 11, 16)),
    ]
    rem_a = _remittance("12345", "DR KIT PRACTITIONER", p1, a, {"12345": "DR KIT PRACTITIONER",
                                                                 "12346": "DR SECOND PRACTITIONER"},
                        adjustments=(("S23", "10", "MSP GRP PREMIUMS", -5802), ("S24", "20", "LIFE INSURANCE", -1589)),
                        messages=("PAYEE 12345 TEST REMITTANCE FROM THE TELEPROC RETURN PACK",
                                  "ONE CLAIM IS HELD (BH) AND PAID ON THE NEXT REMITTANCE"), created=t1)
    b = [
        _claim("S01", "54321", "54321", 120, 200020, 3208, 3208, p1),
        _claim("S02", "54321", "54321", 121, 200021, 3208, 2500, p1, codes=("HC",)),
    ]
    rem_b = _remittance("54321", "DR OTHER PAYEE", p1, b, {"54321": "DR OTHER PAYEE"}, created=t1)
    released = [_claim("S01", "12345", "12345", 114, 200014, 3208, 3208, p2)]
    rem_c = _remittance("12345", "DR KIT PRACTITIONER", p2, released, {"12345": "DR KIT PRACTITIONER"}, created=t2)
    return [("01-remittance.txt", _file(daily, [rem_a, rem_b], t1)),
            ("02-release.txt", _file([], [rem_c], t2))]


def parse_jsonl(path: Path) -> str:
    """What ``teleproc parse PATH`` prints (one JSON object per record, ``_line`` first)."""
    out = []
    for no, text, _ in read_lines(path):
        try:
            rec = parse_line(text, no, path.name)
        except RecordError:
            continue
        out.append(json.dumps(to_json(rec, no)) + "\n")
    return "".join(out)


def balance(path: Path) -> list[str]:
    """Why a return file does not balance ([] = it does): the validator's own checks (VRC/VTC
    counts, order, formats) plus S21/S22 totals against their claim lines and the cheque."""
    out = []
    reader = FileReader(path)
    remit = None

    def close(r):
        s21 = r["s21"]
        if s21.amount_paid != r["paid"]:
            out.append(f"{path.name}:{r['line']}: S21 paid {s21.amount_paid} != claim lines {r['paid']}")
        if r["held"] == 0 and s21.amount_billed != r["billed"]:
            out.append(f"{path.name}:{r['line']}: S21 billed {s21.amount_billed} != claim lines {r['billed']}")
        if cheque_accounts_for(s21.cheque_amount, s21.new_balance, s21.balance_forward) != r["paid"] + r["adj"]:
            out.append(f"{path.name}:{r['line']}: S21 cheque + new balance - balance forward != paid + adjustments")
        for prac, (paid, billed, no) in r["s22"].items():
            want = r["prac"].get(prac, [0, 0, 0])
            if paid != want[0] or (want[2] == 0 and billed != want[1]):
                out.append(f"{path.name}:{no}: S22 {prac} totals {billed}/{paid} != its claim lines {want[1]}/{want[0]}")
    for item in reader:
        out.extend(f.message for f in item.findings if f.severity == "error")
        rec, code = item.record, item.code
        if rec is None:
            continue
        if code == "S21":
            remit = {"s21": rec, "line": item.line_no, "paid": 0, "billed": 0, "held": 0, "adj": 0, "prac": {},
                     "s22": {}}
        elif remit is None:
            continue
        elif code in CLAIM_LINES:
            paid = rec.paid_amount if code != "S04" else 0
            billed = rec.paid_amount if code == "S01" else rec.billed_amount if code != "S04" else 0
            p = remit["prac"].setdefault(rec.practitioner, [0, 0, 0])
            p[0] += paid
            p[1] += billed
            remit["paid"] += paid
            remit["billed"] += billed
            if code == "S04":
                remit["held"] += 1
                p[2] += 1
        elif code == "S22":
            remit["s22"][rec.practitioner] = (rec.amount_paid, rec.amount_billed, item.line_no)
        elif code in ("S23", "S24"):
            remit["adj"] += rec.adjustment_made
        elif code == "VRC":
            close(remit)
            remit = None
    return out


def cmd_returns(args) -> int:
    from .cli import _guard_folder
    _guard_folder(args.out)
    files = pack()
    with B.OutputFolder(args.out, args.force) as root:
        for name, lines in files:
            B.write_bytes(root / name, ("\r\n".join(lines) + "\r\n").encode("ascii"))
            B.write_text(root / (name[:-4] + ".jsonl"), parse_jsonl(root / name))
    sys.stdout.write(f"{args.out}: {len(files)} return files with their .jsonl (teleproc parse)\n")
    return 0


def return_files(folder: Path) -> list[Path]:
    """A bundle's returns/*.rtn, or a return pack's *.txt."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    if (folder / "returns").is_dir():
        return sorted((folder / "returns").glob("*.rtn"))
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise UsageError(f"{folder}: neither a bundle (returns/) nor a return pack (*.txt)")
    return files


def pickup_differences(folder: Path, parsed: Path) -> list[str]:
    ours = []
    for p in return_files(folder):
        ours += claim_answers(read_answers(p)[0])
    mine = {(a["file"], a["line"]): a for a in ours}
    theirs, out = {}, []
    try:
        text = parsed.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"--parsed {parsed}: no such file") from None
    except UnicodeDecodeError:
        return [f"{parsed.name}: not UTF-8 text"]
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            key = (obj["file"], int(obj["line"]))
        except (ValueError, KeyError, TypeError):
            out.append(f"{parsed.name}:{no}: not an answer object with file and line")
            continue
        if key in theirs:
            out.append(f"{parsed.name}:{no}: {key[0]} line {key[1]} given twice")
        theirs[key] = obj
    for key in sorted(set(mine) | set(theirs)):
        a, b = mine.get(key), theirs.get(key)
        where = f"{key[0]} line {key[1]}"
        if b is None:
            out.append(f"{where}: missing from the vendor's reading ({a['record_type']} folio {a['folio']})")
        elif a is None:
            out.append(f"{where}: the vendor read an answer teleproc does not find there "
                       f"({b.get('record_type')} folio {b.get('folio')})")
        else:
            for k in ("record_type", "folio", "paid_cents", "codes"):
                if b.get(k) != a[k]:
                    out.append(f"{where}: {k}: vendor {json.dumps(b.get(k))}, teleproc {json.dumps(a[k])}")
    return out


def cmd_pickup(args) -> int:
    diffs = pickup_differences(Path(args.bundle), Path(args.parsed))
    for d in diffs:
        sys.stdout.write(d + "\n")
    if not diffs:
        sys.stdout.write(f"{args.parsed}: every answer read as teleproc reads it\n")
    return 1 if diffs else 0


def register(cs) -> None:
    r = cs.add_parser("returns", help="a return pack (every return record type, balanced, with .jsonl) for "
                                      "testing a remittance reader")
    r.add_argument("--out", required=True)
    r.add_argument("--force", action="store_true")
    r.set_defaults(func=cmd_returns)
    p = cs.add_parser("pickup", help="compare the vendor's reading of the return files (JSON Lines) with teleproc's")
    p.add_argument("bundle", help="a bundle (its returns/) or a return-pack folder")
    p.add_argument("--parsed", required=True, help="VENDOR.jsonl: file, line, record_type, folio, paid_cents, codes")
    p.set_defaults(func=cmd_pickup)
