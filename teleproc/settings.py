"""Configurable points where the sources disagree (spec section 10): formats/settings.toml."""
from __future__ import annotations

import tomllib

import attrs

from . import data

_CHOICES = {
    "phn_remainder_zero": ("invalid", "check_digit_0"),
    "line_ending": ("crlf", "lf"),
    "return_lengths": ("measured", "oscar"),
    "later_vs1": ("warn", "error"),
}


@data.cached
def _packaged() -> dict:
    """settings.toml (packaged, or its --formats replacement)."""
    return tomllib.loads(data.read_text("settings.toml"))


@attrs.define(frozen=True)
class Settings:
    phn_remainder_zero: str = "invalid"
    phn_legacy_nine_digit: bool = False
    line_ending: str = "crlf"
    return_lengths: str = "measured"
    later_vs1: str = "warn"

    def __attrs_post_init__(self):
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"setting {name} must be one of {', '.join(allowed)}")

    @property
    def eol(self) -> str:
        return "\r\n" if self.line_ending == "crlf" else "\n"

    @classmethod
    def load(cls, path=None, **overrides) -> "Settings":
        if path is not None:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        else:
            raw = _packaged()
        values = {
            "phn_remainder_zero": raw["phn"]["remainder_zero"],
            "phn_legacy_nine_digit": raw["phn"]["legacy_nine_digit"],
            "line_ending": raw["lines"]["ending"],
            "return_lengths": raw["return_lengths"]["mode"],
            "later_vs1": raw["submission"]["later_vs1"],
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
