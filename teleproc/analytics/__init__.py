"""Attachment analytics over the state store (read only).

- ``msoc``: Majority Source of Care attribution and the CLFP complexity score and payment
  (seed-rules.md section 3, from ``004_013d2d10816c33f3.txt``).
- ``panel``: PAS panels built from paid 98990 attachments, and their comparison with MSOC
  (seed-rules.md section 4, from ``000_fcda47c51fff48fc.txt``).
- ``cli``: the ``teleproc msoc`` and ``teleproc panel`` subcommands (``register``).
"""
