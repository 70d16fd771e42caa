"""Configurable points where the sources disagree (spec section 10): formats/settings.toml.

Every command that reads or writes records takes the same options for them: ``add_arguments``
declares them on its parser, ``from_args`` reads them back (the file's values, overridden by
the options given). A new setting is added here once and reaches every such command."""
from __future__ import annotations

import tomllib

import attrs

from . import data

# The values each setting may take. Program structure, not a code list: every value names a code
# path (the line ending written, the S-record lengths, warn vs error...), so a value added in a
# data file would do nothing; which value applies is data (settings.toml, the options).
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


# option -> (Settings field, argparse keywords); one row per setting, every command alike
_OPTIONS = {
    "--phn-remainder-zero": ("phn_remainder_zero", dict(choices=_CHOICES["phn_remainder_zero"],
                             help="a PHN whose weighted sum is 0 mod 11 (spec 10.11)")),
    "--legacy-phn": ("phn_legacy_nine_digit", dict(action="store_const", const=True,
                     help="accept old 9-digit MSP numbers (spec 6.1)")),
    "--line-ending": ("line_ending", dict(choices=_CHOICES["line_ending"],
                      help="line ending of the files written (spec 10.2)")),
    "--return-lengths": ("return_lengths", dict(choices=_CHOICES["return_lengths"],
                         help="S-record lengths: measured (HIBC remittance) or oscar (spec 10.1)")),
    "--later-vs1": ("later_vs1", dict(choices=_CHOICES["later_vs1"],
                    help="a second VS1 in a submission: a warning or a defect (spec 1.2)")),
}


def add_arguments(parser) -> None:
    """The settings options (formats/settings.toml) on a command's parser."""
    g = parser.add_argument_group("settings (formats/settings.toml; spec section 10)")
    for option, (field, kw) in _OPTIONS.items():
        g.add_argument(option, dest=field, default=None, **kw)


def from_args(args) -> Settings:
    """The settings of one command: formats/settings.toml, overridden by its options."""
    return Settings.load(**{field: getattr(args, field, None) for field, _ in _OPTIONS.values()})
