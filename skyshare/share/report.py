"""What ``skyshare agreements check`` prints: for each receiving partner, what it gets
from every other partner, as text for people or JSON for scripts.

Pure formatting: an :class:`~skyshare.share.agreements.AgreementSet` and a time in,
text out (no I/O)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from skyshare.share.agreements import Agreement, AgreementSet
from skyshare.share.regions import SharedRegion


def utc_text(t: float | None) -> str:
    """ISO 8601 UTC; a midnight as a date alone; None as ''."""
    if t is None:
        return ""
    dt = datetime.fromtimestamp(t, UTC)
    if dt.hour == dt.minute == dt.second == dt.microsecond == 0:
        return dt.date().isoformat()
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def state(agreement: Agreement, at: float) -> str:
    """'active', 'revoked', 'not yet valid' or 'expired' at ``at``."""
    if agreement.revoked:
        return "revoked"
    if agreement.active_at(at):
        return "active"
    if agreement.valid_from is not None and at < agreement.valid_from:
        return "not yet valid"
    return "expired"


def band_text(region: SharedRegion) -> str:
    lower, upper = region.lower_ft, region.upper_ft
    if lower is None and upper is None:
        return "all altitudes"
    if upper is None:
        return f"from {lower:,.0f} ft up"
    if lower is None:
        return f"up to {upper:,.0f} ft"
    return f"{lower:,.0f}-{upper:,.0f} ft"


def _validity(a: Agreement) -> str:
    if a.valid_from is None and a.valid_until is None:
        return "valid always"
    return (f"valid {utc_text(a.valid_from) or 'always'} until "
            f"{utc_text(a.valid_until) or 'further notice'}")


def _rate(hz: float) -> str:
    return f"{hz:g} Hz" if hz >= 1 else f"{hz:g} Hz (one update per {1 / hz:g} s)"


def _terms(a: Agreement, at: float) -> list[str]:
    regions = "; ".join(f"{r.name} ({r.area_km2():,.0f} km², {band_text(r)})"
                        for r in a.regions)
    sources = ("own sensors only" if a.sources == "own"
               else "own sensors and other partners' data")
    lines = [f"{a.id}: {_validity(a)} ({state(a, at)})",
             f"  regions: {regions}",
             f"  fields: {', '.join(a.fields)}; sources: {sources}",
             f"  delay: {a.min_delay_s:g} s; rate: at most {_rate(a.max_rate_hz)} per track"]
    ex = a.exclude
    parts = []
    if ex.addresses:
        parts.append("addresses " + ", ".join(f"{x:06x}" for x in ex.addresses))
    if ex.categories:
        parts.append("categories " + ", ".join(f"{c:02X}" for c in ex.categories))
    if ex.exercise:
        parts.append("exercise traffic")
    lines.append(f"  exclude: {'; '.join(parts) if parts else 'nothing'}")
    lines.append(f"  alerts: {'yes' if a.alerts else 'no'}; "
                 f"hand-over offers: {'yes' if a.handover else 'no'}")
    lines.append(f"  from {a.source}")
    return lines


def describe(agreements: AgreementSet, at: float) -> str:
    """The text report: per receiving partner, per giving partner, the agreement(s) and
    their terms, or "nothing"."""
    partners = agreements.partners
    active = len(agreements.active(at))
    out = [f"{len(agreements)} agreements between {len(partners)} partners "
           f"({active} active at {utc_text(at)})"]
    for receiver in partners:
        out.append("")
        out.append(f"{receiver} receives:")
        for giver in partners:
            if giver == receiver:
                continue
            terms = [a for a in agreements.incoming(receiver) if a.giver == giver]
            if not terms:
                out.append(f"  from {giver}: nothing")
                continue
            for a in terms:
                first, *rest = _terms(a, at)
                out.append(f"  from {giver}: {first}")
                out.extend(f"    {line}" for line in rest)
    return "\n".join(out)


def _agreement_json(a: Agreement, at: float) -> dict[str, object]:
    return {
        "id": a.id, "from": a.giver, "to": a.receiver,
        "valid_from": utc_text(a.valid_from) or None,
        "valid_until": utc_text(a.valid_until) or None,
        "revoked": a.revoked, "state": state(a, at), "active": a.active_at(at),
        "regions": [{"name": r.name, "area_km2": round(r.area_km2(), 1),
                     "lower_ft": r.lower_ft, "upper_ft": r.upper_ft} for r in a.regions],
        "fields": list(a.fields), "sources": a.sources,
        "min_delay_s": a.min_delay_s, "max_rate_hz": a.max_rate_hz,
        "exclude": {"addresses": [f"{x:06x}" for x in a.exclude.addresses],
                    "categories": [f"{c:02X}" for c in a.exclude.categories],
                    "exercise": a.exclude.exercise},
        "alerts": a.alerts, "handover": a.handover, "source": a.source,
    }


def to_json(agreements: AgreementSet, at: float) -> str:
    """The same as :func:`describe`, as one JSON document: ``at``, ``partners``,
    ``agreements`` (every one, with its terms and state) and ``pairs`` (every ordered
    pair of partners: the agreement ids and the one active at ``at``, or null)."""
    partners = agreements.partners
    pairs = []
    for receiver in partners:
        for giver in partners:
            if giver != receiver:
                active = agreements.between(giver, receiver, at)
                pairs.append({
                    "from": giver, "to": receiver,
                    "agreements": [a.id for a in agreements.incoming(receiver)
                                   if a.giver == giver],
                    "active": active.id if active else None})
    doc = {"at": utc_text(at) if math.isfinite(at) else None, "partners": list(partners),
           "agreements": [_agreement_json(a, at) for a in agreements], "pairs": pairs}
    return json.dumps(doc, indent=2, ensure_ascii=False)
