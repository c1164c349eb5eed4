"""What one step's stages produced: the container the tables stage reads."""

from __future__ import annotations

from dataclasses import dataclass

from ...network.pair_walk import PairPaths
from .allocation import Allocation
from .links import Links
from .routes import DishRoutes
from .service import DishService
from .sky import Sky


@dataclass(frozen=True)
class Step:
    """Every stage's result at one instant (the network's are None in a visibility-only run)."""

    t_ns: int
    sky: Sky
    slot_start_ns: int | None = None
    links: Links | None = None
    routes: DishRoutes | None = None
    pairs: PairPaths | None = None
    allocation: Allocation | None = None
    service: DishService | None = None
