"""The stored trace (teleproc.trace): tags stay readable, facts round-trip."""
from hypothesis import given, strategies as st

from teleproc import trace

key = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
value = st.one_of(st.integers(-10**9, 10**9), st.text(min_size=1, max_size=12),
                  st.lists(st.from_regex(r"[0-9A-Z/]{1,10}", fullmatch=True), min_size=1, max_size=4))
entry = st.tuples(st.from_regex(r"R[0-9]{2}|DUP|CAP|MIN|DEBIT", fullmatch=True),
                  st.from_regex(r"[A-Z_]{3,20}", fullmatch=True),
                  st.one_of(st.none(), st.dictionaries(key, value, max_size=5)))


@given(st.lists(entry, max_size=5))
def test_encode_decode_round_trips(info):
    text = trace.encode(info)
    back = trace.decode(text)
    assert [(r, f) for r, f, _ in back] == [(r, f) for r, f, _ in info]
    for (_, _, facts), (_, _, got) in zip(info, back):
        want = {k: trace.clean(v) for k, v in (facts or {}).items()}
        assert got == want
    assert trace.tags(text) == tuple(f"{r}:{f}" for r, f, _ in info)
    assert "\n" not in text


def test_a_value_never_breaks_the_encoding():
    text = trace.encode([("R70", "SEX_MISMATCH", {"note": "a b;c=d[e]"})])
    assert " " not in text and trace.decode(text)[0][2] == {"note": "a_b,c-d(e)"}
    assert trace.tags("R62:CAP_PATIENT_CY") == ("R62:CAP_PATIENT_CY",)   # the old tags still read


def test_line_ref_parses():
    assert trace.parse_ref("42/3/14050/20240110/10001/PAID") == {
        "line_id": 42, "run": 3, "fee": "14050", "dos": 20240110, "practitioner": "10001", "status": "PAID"}


def test_line_ref_positions_follow_the_history_columns():
    from teleproc.adjudicate import history as H
    assert (trace._LID, trace._RUN, trace._DOS, trace._PRAC, trace._PFEE, trace._STATUS) == (
        H.LID, H.RUN, H.DOS, H.PRAC, H.PFEE, H.STATUS)
    ln = [None] * len(H.COLUMNS)
    ln[H.LID], ln[H.RUN], ln[H.PFEE], ln[H.DOS], ln[H.PRAC], ln[H.STATUS] = 42, 3, "14050", 20240110, "10001", "PAID"
    assert trace.line_ref(ln) == "42/3/14050/20240110/10001/PAID"
