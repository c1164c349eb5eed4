"""One vocabulary of dish states for the whole of leonet: the engine writes these codes, and the
summary, compare, report, CZML export, app and web page read their names, the dish's own words,
colours and whether each counts as an outage from here (the page gets them as JSON).

The code of a state is its position in :data:`STATES`; Parquet ``state`` columns are dictionary
arrays over these names in this order, so the order never changes (new states go at the end).

The dish's own words follow its local status API (starlink-grpc-tools; REFERENCE.md, "The user's
app and the dish's status API").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DishState:
    """One state of a dish at one step."""

    name: str          # leonet's name, as written in results
    code: int          # int8 code in the engine's arrays (the dictionary index in Parquet)
    dish_word: str     # what the dish's status API would say
    colour: str        # CSS colour used by the report, the app and CZML
    outage: bool       # True: the user has no service (counts against availability)
    meaning: str       # one line for people


STATES: tuple[DishState, ...] = (
    DishState("CONNECTED", 0, "CONNECTED", "#2ecc71", False, "online through a satellite"),
    DishState("NO_SATS", 1, "NO_SATS", "#e74c3c", True, "no satellite in view above the minimum elevation"),
    DishState("NO_PATH", 2, "NO_PINGS", "#9b59b6", True, "a satellite in view, but no route to a PoP"),
    DishState("OBSTRUCTED", 3, "OBSTRUCTED", "#f39c12", True, "satellites in view only behind obstructions"),
    DishState("OFFLINE", 4, "DISH_UNREACHABLE", "#7f7f7f", True, "the dish is off (destroyed, bricked or without power)"),
    DishState("JAMMED", 5, "NO_DOWNLINK", "#e377c2", True, "the radio link does not close under jamming"),
    DishState("CONGESTED", 6, "CONNECTED", "#d4d433", False,
              "online, but getting less than its demand and below the congestion threshold (a quality flag, not an outage)"),
    DishState("SOLD_OUT", 7, "NO_SERVICE_PLAN", "#34495e", True,
              "the dish's cell is full (Starlink's \"sold out\"): on the waiting list, no service"),
    DishState("GEOFENCED", 8, "NO_SERVICE_HERE", "#17becf", True, "the operator refuses service where the dish is"),
)

#: leonet's names in code order (the Parquet dictionary).
STATE_NAMES: tuple[str, ...] = tuple(s.name for s in STATES)
BY_NAME: dict[str, DishState] = {s.name: s for s in STATES}
#: Names of the states that count as an outage (lost time, availability).
OUTAGE_STATES: tuple[str, ...] = tuple(s.name for s in STATES if s.outage)
#: leonet name -> the dish's word.
DISH_WORD: dict[str, str] = {s.name: s.dish_word for s in STATES}


def code(name: str) -> int:
    """The int8 code of a state name (KeyError for an unknown name)."""
    return BY_NAME[name].code


def is_outage(name: str) -> bool:
    """Whether a state (by leonet's name) counts as an outage; unknown names count as outages."""
    s = BY_NAME.get(name)
    return True if s is None else s.outage


def as_json() -> list[dict]:
    """The vocabulary as JSON-ready dicts (served to the web page)."""
    return [asdict(s) for s in STATES]


def never_online_text(name: str, steps: int, lost_s: dict[str, float], label=str,
                      meanings: dict[str, str] | None = None) -> str | None:
    """One line for a dish never online over a run: the states that took its time (``lost_s``,
    state name -> seconds, in the order ties keep), each with its share and meaning (``meanings``
    overrides a state's, e.g. NO_PATH naming the dish's home PoP; ``label`` writes a state's name,
    e.g. with the dish's word); None when no state took any time. ``leonet dish`` and the app
    say it alike."""
    total = sum(v for v in lost_s.values() if v > 0)
    if not total > 0:
        return None

    def meaning(state: str) -> str:
        if meanings and state in meanings:
            return meanings[state]
        return BY_NAME[state].meaning if state in BY_NAME else "a state leonet does not know"

    causes = [f"{label(s)} {100 * v / total:.0f}% of the time ({meaning(s)})"
              for s, v in sorted(lost_s.items(), key=lambda sv: -sv[1]) if v > 0]
    return f"{name}: never online in {steps} steps: " + "; ".join(causes)

