"""BC Personal Health Number (spec 6.1), in the python-stdnum manner: one small module.

10 digits, first digit 9, check digit 10 = 11 - (sum of digits 2-9 weighted 2,4,8,5,10,9,7,3
mod 11). Remainder 1 can never match; remainder 0 is where sources disagree (10.11):
OSCAR and Juno reject, python-stdnum takes check digit 0. Old 9-digit MSP numbers use a
Luhn-style check and are accepted only when asked for.
"""
from __future__ import annotations

_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)


def _half_table(weights) -> dict[str, int]:
    """'0000'..'9999' -> weighted digit sum mod 11, for one half of digits 2-9 (10,000 entries)."""
    out = {}
    for n in range(10_000):
        s = "%04d" % n
        out[s] = sum(int(d) * w for d, w in zip(s, weights)) % 11
    return out


# Two lookups replace eight int() calls: constant memory, no per-PHN cache (a cache keyed by
# PHN grows with the number of distinct patients: ~40 MB at 200,000).
_HI = HALF_HI = _half_table(_WEIGHTS[:4])
_LO = HALF_LO = _half_table(_WEIGHTS[4:])
# expected 10th digit by remainder ('' = no digit can match), per remainder-zero setting
_EXPECT = {
    "invalid": ("", "") + tuple(str(11 - r) for r in range(2, 11)),
    "check_digit_0": ("0", "") + tuple(str(11 - r) for r in range(2, 11)),
}


def expected_digits(remainder_zero: str = "invalid") -> tuple:
    """The expected 10th digit (a 1-character string, '' = none can match) by remainder:
    ``phn[9] == expected_digits()[(HALF_HI[phn[1:5]] + HALF_LO[phn[5:9]]) % 11]``."""
    return _EXPECT[remainder_zero]


def remainder(phn: str) -> int:
    return (_HI[phn[1:5]] + _LO[phn[5:9]]) % 11


def check_digit(phn: str, remainder_zero: str = "invalid") -> int | None:
    """The expected 10th digit, or None when no digit can be right."""
    r = remainder(phn)
    if r == 1:
        return None
    if r == 0:
        return 0 if remainder_zero == "check_digit_0" else None
    return 11 - r


def is_valid_legacy(number: str) -> bool:
    """Old 9-digit MSP number: d1+d3+d5+d7 plus the digit sums of 2*d2, 2*d4, 2*d6, 2*d8."""
    if len(number) != 9 or not number.isdigit():
        return False
    total = sum(int(number[i]) for i in (0, 2, 4, 6))
    total += sum(sum(divmod(2 * int(number[i]), 10)) for i in (1, 3, 5, 7))
    check = 10 - total % 10
    return check == int(number[8])


def is_valid(phn: str, remainder_zero: str = "invalid", legacy_nine_digit: bool = False) -> bool:
    if len(phn) != 10 or not (phn.isdigit() and phn.isascii()):
        return False
    if phn[0] == "9":
        return phn[9] == _EXPECT[remainder_zero][(_HI[phn[1:5]] + _LO[phn[5:9]]) % 11]
    return legacy_nine_digit and phn[0] == "0" and is_valid_legacy(phn[1:])
