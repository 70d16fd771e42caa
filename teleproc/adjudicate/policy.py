"""The adjudicator's switches (``formats/policy.toml``): every CFG.* choice seed-rules.md leaves open.

The TOML file is the only place a default lives; ``Policy.load(**overrides)`` reads it and lets a
caller (the CLI, a test) change single switches. Unknown keys are an error both ways, so a typo in
the file or in an override cannot silently fall back to a default.
"""
from __future__ import annotations

import tomllib
from types import MappingProxyType

from teleproc import data

_CHOICES = {
    "spec_consult_basis": {"paid", "billed"},
    "cdm_border_policy": {"compute", "review"},
    "legacy_13050": {"refuse", "pay"},
    "cdm_visit_scope": {"practitioner", "payee", "any"},
    "conf_cap_scope": {"patient", "practitioner"},
    "conf_overlap": {"refuse"},
    "cv_age_rule": {"sex_specific", "broad"},
    "palliative_second_gp": {"review", "pay", "refuse"},
    "pall_phone_visit_scope": {"practitioner", "patient"},
    "age_code_mismatch": {"recode", "refuse"},
    "rural_premium": {"none"},
    "unknown_fee": {"pay", "refuse"},
}


class PolicyError(data.DataError, ValueError):
    """policy.toml (or an override) holds what no switch takes: a data error (exit 2, no traceback),
    still a ValueError for callers that passed a bad override."""


@data.cached
def _file_values() -> MappingProxyType:
    """policy.toml (packaged, or its --formats replacement)."""
    try:
        return MappingProxyType(tomllib.loads(data.read_text("policy.toml")))
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{data.locate('policy.toml')[0]}: not valid TOML: {e}") from None


class Policy:
    """Read-only switches, as attributes (``policy.cv_age_rule``)."""

    def __init__(self, values: dict):
        for key, allowed in _CHOICES.items():
            if key in values and values[key] not in allowed:
                raise PolicyError(f"policy {key}={values[key]!r}: expected one of {sorted(allowed)} "
                                  f"(policy.toml: {data.locate('policy.toml')[0]})")
        self.__dict__.update(values)

    @classmethod
    def load(cls, **overrides) -> "Policy":
        values = dict(_file_values())
        unknown = set(overrides) - set(values)
        if unknown:
            raise PolicyError(f"unknown policy switch(es): {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(values)

    def __setattr__(self, name, value):
        raise AttributeError("Policy is read-only; use Policy.load(**overrides)")

    def as_dict(self) -> dict:
        return dict(self.__dict__)
