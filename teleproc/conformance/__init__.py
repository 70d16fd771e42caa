"""``teleproc conformance``: rehearse HIBC's Teleplan vendor test locally (issue 10).

kit.py (the case catalogue -> scenarios.toml), generate.py (reference and negative files),
checks.py (the kit's claim-type rules, layers, recipes), run.py (validate + adjudicate +
judge), answers.py (reading return files), bundle.py (folders, manifest, masking),
report.py (text / HTML / host checklist), returns.py (return pack, pickup), cli.py.
"""
