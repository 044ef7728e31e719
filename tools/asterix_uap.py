"""Print the UAP of an ASTERIX category and edition as skyshare.decode.asterix.uap items.

The item structure comes from libasterix (a dev dependency, generated from the
asterix-specs).  Its output is pasted into skyshare/decode/asterix/uap.py, so that the node
needs neither libasterix nor its one-second import at run time:

    .venv/bin/python tools/asterix_uap.py 62 1.19 > /tmp/cat062.txt
"""

from __future__ import annotations

import argparse
from typing import Any

import asterix.generated as gen


def variation(v: Any, name: str) -> str:
    kind = v.__mro__[1].__name__
    if kind in ("Element", "Group"):
        bits = v.cv_bit_size
        if bits % 8:
            raise ValueError(f"{name}: {bits} bits is not whole bytes")
        return f'fixed("{name}", {bits // 8})'
    if kind == "Extended":
        parts = [(sum(b for _, b in (x for x in part if x is not None)) + 1) // 8
                 for part in v.cv_items_list]
        if any(p != parts[1] for p in parts[1:]):
            raise ValueError(f"{name}: extended parts of sizes {parts}")
        return f'extended("{name}", {parts[0]}, {parts[1] if len(parts) > 1 else parts[0]})'
    if kind == "Repetitive":
        element = v.cv_variation
        bits = element.cv_bit_size
        if v.cv_rep_bytes is None:  # FX-terminated elements
            return f'repetitive_fx("{name}", {(bits + 1) // 8})'
        if v.cv_rep_bytes != 1 or bits % 8:
            raise ValueError(f"{name}: repetitive with {v.cv_rep_bytes} count bytes")
        return f'repetitive("{name}", {bits // 8})'
    if kind == "Explicit":
        return f'explicit("{name}")'
    if kind == "Compound":
        subs = []
        for sub in v.cv_items_list:
            if sub is None:
                subs.append("None")
            else:
                subs.append(variation(sub.cv_rule.cv_variation, sub.cv_name))
        return f'compound("{name}", ' + ", ".join(subs) + ")"
    raise ValueError(f"{name}: {kind} items are not supported")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("category", type=int)
    parser.add_argument("edition", help="like 1.19")
    args = parser.parse_args()
    major, minor = args.edition.split(".")
    spec = getattr(gen, f"Cat_{args.category:03d}_{major}_{minor}")
    items = spec.cv_record.cv_items_list
    prefix = f"I{args.category:03d}/"
    for item in items:
        ns = getattr(item, "cv_non_spare", None)
        if ns is None:  # a spare FRN
            print("    None,")
            continue
        print(wrapped(f"    {variation(ns.cv_rule.cv_variation, prefix + ns.cv_name)},"))


def wrapped(line: str, width: int = 96) -> str:
    """``line`` cut after its outermost call's commas, no part longer than ``width``."""
    if len(line) <= width:
        return line
    start = line.index("(") + 1
    pieces, depth, last = [], 0, start
    for i, c in enumerate(line[start:], start):
        depth += (c == "(") - (c == ")")
        if c == "," and depth == 0:
            pieces.append(line[last:i + 1].strip())
            last = i + 1
    pieces.append(line[last:].strip())
    out, current = [], line[:start]
    for piece in pieces:
        if len(current) + 1 + len(piece) > width and current.strip():
            out.append(current.rstrip())
            current = " " * start
        current += ("" if current.endswith(("(", " ")) else " ") + piece
    out.append(current)
    return "\n".join(out)


if __name__ == "__main__":
    main()
