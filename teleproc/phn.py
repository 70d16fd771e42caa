"""BC Personal Health Number (spec 6.1), in the python-stdnum manner: one small module.

10 digits, first digit 9, check digit 10 = 11 - (sum of digits 2-9 weighted 2,4,8,5,10,9,7,3
mod 11). Remainder 1 can never match; remainder 0 is where sources disagree (10.11):
OSCAR and Juno reject, python-stdnum takes check digit 0. Old 9-digit MSP numbers use a
Luhn-style check and are accepted only when asked for.
"""
from __future__ import annotations

_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)
_cache: dict[tuple, bool] = {}


def remainder(phn: str) -> int:
    return sum(int(d) * w for d, w in zip(phn[1:9], _WEIGHTS)) % 11


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
    key = (phn, remainder_zero, legacy_nine_digit)
    try:
        return _cache[key]
    except KeyError:
        pass
    ok = False
    if len(phn) == 10 and phn.isdigit() and phn.isascii():
        if phn[0] == "9":
            ok = check_digit(phn, remainder_zero) == int(phn[9])
        elif legacy_nine_digit and phn[0] == "0":
            ok = is_valid_legacy(phn[1:])
    if len(_cache) > 500_000:
        _cache.clear()
    _cache[key] = ok
    return ok
