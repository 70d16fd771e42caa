"""Adjudication: decisions over claims + history (seed-rules.md), with holds and debits.

``Adjudicator`` (engine.py) is what a run calls; the rules live in ``rules/``, one module per
program, run in one order; their data (fee schedule, code sets, caps, same-day pairs,
prerequisites, age bands, finding -> MSP code map) in ``formats/tables/`` and the switches in
``formats/policy.toml``.
"""
from .engine import Adjudicator
from .policy import Policy
from .registry import Registry
from .tables import load_tables

__all__ = ["Adjudicator", "Policy", "Registry", "load_tables"]
