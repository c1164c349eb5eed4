"""Structural checks of CZML packets and documents (what :mod:`.czml` writes, checked packet by
packet as it writes them; tests check whole documents with :func:`validate_czml`)."""

from __future__ import annotations

import re

_INTERVAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def check_packet(packet: dict, ids: set[str] | None = None) -> list[str]:
    """Structural checks of one packet; returns the references it makes (``id#property``).

    Raises ``ValueError`` naming the packet and the problem: no or repeated id, a document packet
    out of place, a bad interval, sampled cartesian values not in groups of four, bad colours.
    """
    pid = packet.get("id") if isinstance(packet, dict) else None
    if not isinstance(pid, str) or not pid:
        raise ValueError(f"CZML packet without an id: {str(packet)[:80]}")
    if ids is not None:
        if pid in ids:
            raise ValueError(f"CZML packet id {pid!r} repeated")
        if not ids and pid != "document":
            raise ValueError("the first CZML packet must be the document packet")
        ids.add(pid)
    if pid == "document":
        if packet.get("version") != "1.0" or not _INTERVAL.match(packet.get("clock", {}).get("interval", "")):
            raise ValueError("CZML document packet needs version 1.0 and a clock interval")
    if "availability" in packet:
        available = packet["availability"]
        for a in available if isinstance(available, list) else [available]:
            if not isinstance(a, str) or not _INTERVAL.match(a):
                raise ValueError(f"{pid}: bad availability {a!r}")
    position = packet.get("position", {})
    # a position given as intervals (a satellite drawn in stretches): each its own sampled property
    for part in position if isinstance(position, list) else [position]:
        if isinstance(position, list) and not _INTERVAL.match(str(part.get("interval", ""))):
            raise ValueError(f"{pid}: a position interval needs an interval, got {part.get('interval')!r}")
        if "cartesian" in part:
            values = part["cartesian"]
            if len(values) % 4 or not values or "epoch" not in part:
                raise ValueError(f"{pid}: sampled cartesian needs an epoch and (t, x, y, z) groups")
        if "cartographicDegrees" in part and len(part["cartographicDegrees"]) != 3:
            raise ValueError(f"{pid}: cartographicDegrees needs [lon, lat, height]")
    colour = packet.get("point", {}).get("color")
    for item in colour if isinstance(colour, list) else [colour] if colour is not None else []:
        if "interval" in item and not _INTERVAL.match(item["interval"]):
            raise ValueError(f"{pid}: bad colour interval {item['interval']!r}")
        if len(item.get("rgba", [])) != 4:
            raise ValueError(f"{pid}: a colour needs rgba [r, g, b, a]")
    refs = packet.get("polyline", {}).get("positions", {}).get("references", [])
    for r in refs:
        if not isinstance(r, str) or "#" not in r:
            raise ValueError(f"{pid}: bad reference {r!r}")
    return list(refs)


def validate_czml(doc: list) -> None:
    """Check a whole CZML document (a list of packets): every packet, and that references resolve."""
    if not isinstance(doc, list) or not doc:
        raise ValueError("a CZML document is a non-empty JSON list of packets")
    ids: set[str] = set()
    refs: list[str] = []
    for packet in doc:
        refs += check_packet(packet, ids)
    missing = sorted({r.split("#", 1)[0] for r in refs} - ids)
    if missing:
        raise ValueError(f"CZML references unknown entities {missing[:5]}")
