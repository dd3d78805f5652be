#!/usr/bin/env python3
"""Writes pylower.tsv: every code point whose str.lower() is not itself.

    python3 gen_pylower.py > pylower.tsv

One line per code point: hex code point, TAB, the lower-cased string as
space-separated hex code points. Each code point is lowered on its own, so
the final-sigma context never applies (U+03A3 alone lowers to U+03C3).
The checked-in file was made by Python 3.11.7 (Unicode 14.0.0).
"""
import sys
import unicodedata

print(f"# python {sys.version.split()[0]} unicode {unicodedata.unidata_version}")
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    lo = c.lower()
    if lo != c:
        print(f"{cp:x}\t{' '.join(f'{ord(x):x}' for x in lo)}")
