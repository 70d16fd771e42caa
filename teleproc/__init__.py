"""teleproc: BC MSP Teleplan-style claim files, from bytes to decisions and back.

Data path: bytes -> records (layouts in formats/) -> claims -> decisions (rules + history)
-> return records -> bytes.
"""
__version__ = "0.1.0"
