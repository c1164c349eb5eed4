"""The HTTP JSON API under ``/api/v1``: routes, their parameters and bounds.

Every parameter is bounded here (FastAPI answers 422 outside the bounds) and again against the run
in :mod:`leonet.app.run` (a step past the run, a window longer than ``MAX_SPAN_STEPS``: 422).
An unknown dish is 404 with a message that says how to list the dishes. No parameter is ever a
file path: a dish is looked up by name in the run's sites, tables are opened by name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from .. import states as state_vocabulary
from . import dish, network, pairs, schemas
from .run import MAX_SPAN_STEPS, RunData

#: Upper bounds of the size parameters (the defaults are lower).
LIMITS = {
    "max_history_steps": MAX_SPAN_STEPS,
    "max_list": 1000,
    "max_satellites": 50_000,
    "max_links": 100_000,
    "max_dishes": 20_000,
    "max_tracks": 200,
    "max_points": 3600,
}

#: A dish's id is its site name, which may hold any character (a PoP-style "LON/LHR" too): the
#: route takes the whole segment up to the route's last word, and looks it up among the run's
#: dishes only - it never names a file.
DishId = Annotated[str, Path(min_length=1, max_length=200, description="The dish's id (its site name), from /api/v1/dishes; percent-encode it.")]
Step = Annotated[int | None, Query(ge=0, le=10**9, description="Step number (0 = the run's start). Default: the last step.")]
When = Annotated[datetime | None, Query(description="UTC instant (ISO 8601); the step at or before it. Give step or t, not both.")]
StartStep = Annotated[int | None, Query(ge=0, le=10**9, description="First step of the window (default 0).")]
EndStep = Annotated[int | None, Query(ge=1, le=10**9, description=f"One past the last step (default: start_step + {MAX_SPAN_STEPS}, or the run's end). At most {MAX_SPAN_STEPS} steps per query.")]
Offset = Annotated[int, Query(ge=0, le=10**9)]

NOT_FOUND = {404: {"model": schemas.Problem, "description": "Unknown dish, or a step the run did not compute."}}
HISTORY_NOT_FOUND = {404: {"model": schemas.Problem, "description": "Unknown dish, a step the run did not compute, or baseline=true on a run without a baseline."}}
NO_BASELINE = {404: {"model": schemas.Problem, "description": "The run has no baseline (run it with `leonet run SCENARIO --baseline`), or no network results."}}

router = APIRouter(prefix="/api/v1")


def _data(request: Request) -> RunData:
    return request.app.state.run_data


@router.get("/run", response_model=schemas.RunInfo, summary="What the run is: scenario, time window, sizes, tables")
def run_info(request: Request):
    info = _data(request).info()
    info.limits = dict(LIMITS)
    return info


@router.get("/states", response_model=list[schemas.StateInfo], summary="The dish-state vocabulary: names, the dish's words, colours, outage or not")
def dish_states(request: Request):
    """Every state leonet writes (leonet.states), in code order: the page colours and names
    states from this list."""
    return [schemas.StateInfo(**s) for s in state_vocabulary.as_json()]


@router.get("/dishes", response_model=schemas.DishList, summary="The run's dishes, a page at a time")
def dishes(request: Request, offset: Offset = 0,
           limit: Annotated[int, Query(ge=1, le=LIMITS["max_list"])] = 100,
           group: Annotated[str | None, Query(max_length=200, description="Only dishes of this group (city, region).")] = None,
           q: Annotated[str | None, Query(max_length=200, description="Only dishes whose name contains this text (any case): a search by name.")] = None):
    return dish.dishes(_data(request), offset, limit, group, q)


@router.get("/dishes/{dish_id:path}/status", response_model=schemas.DishStatus, responses=NOT_FOUND,
            summary="A dish's status at one step, in the dish's own field names")
def dish_status(request: Request, dish_id: DishId, step: Step = None, t: When = None):
    return dish.status(_data(request), dish_id, step, t)


@router.get("/dishes/{dish_id:path}/history", response_model=schemas.DishHistory, responses=HISTORY_NOT_FOUND,
            summary=f"A dish's per-step history over a window of at most {MAX_SPAN_STEPS} steps")
def dish_history(request: Request, dish_id: DishId, start_step: StartStep = None, end_step: EndStep = None,
                 baseline: Annotated[bool, Query(description="Also give the baseline's state and latency at the same steps (404 when the run has no baseline).")] = False):
    return dish.history(_data(request), dish_id, start_step, end_step, baseline)


@router.get("/dishes/{dish_id:path}/outages", response_model=schemas.Outages, responses=NOT_FOUND,
            summary="A dish's outages (runs of steps not connected) with their cause and duration")
def dish_outages(request: Request, dish_id: DishId, start_step: StartStep = None, end_step: EndStep = None,
                 limit: Annotated[int, Query(ge=1, le=LIMITS["max_list"])] = 200):
    return dish.outages(_data(request), dish_id, start_step, end_step, limit)


@router.get("/dishes/{dish_id:path}/obstruction_map", response_model=schemas.ObstructionMap, responses=NOT_FOUND,
            summary="A dish's sky: horizon mask, wedges, and the tracks of the satellites it used")
def obstruction_map(request: Request, dish_id: DishId,
                    max_tracks: Annotated[int, Query(ge=1, le=LIMITS["max_tracks"])] = 40,
                    max_points: Annotated[int, Query(ge=2, le=LIMITS["max_points"])] = 600):
    return dish.obstruction_map(_data(request), dish_id, max_tracks, max_points)


@router.get("/snapshot", response_model=schemas.Snapshot, responses=NOT_FOUND,
            summary="The constellation at one step: satellites, laser links, gateways, PoPs, dishes by state")
def snapshot(request: Request, step: Step = None, t: When = None,
             max_satellites: Annotated[int, Query(ge=0, le=LIMITS["max_satellites"], description="Thin satellites to at most this many (an even stride).")] = 5000,
             max_links: Annotated[int, Query(ge=0, le=LIMITS["max_links"], description="Thin active laser links to at most this many.")] = 3000,
             max_dishes: Annotated[int, Query(ge=0, le=LIMITS["max_dishes"], description="At most this many dishes: every dish not connected first, then an even spread of the connected.")] = 2000):
    return network.snapshot(_data(request), step, t, max_satellites, max_links, max_dishes)


@router.get("/regions", response_model=schemas.Regions, responses=NOT_FOUND,
            summary="Per-region (dish group) service: availability, RTT percentiles, outage causes")
def regions(request: Request, offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=LIMITS["max_list"])] = 200):
    return network.regions(_data(request), offset, limit)


@router.get("/compare", response_model=schemas.Compare, responses=NO_BASELINE,
            summary="Scenario vs baseline (the same scenario without its events, deliveries kept), per dish group, and the events")
def compare(request: Request, offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=LIMITS["max_list"])] = 200):
    """What the events cost, per dish group: availability with and without them, RTT p50 of both and its change in ms
    (matched step by step), lost time by cause, by what users were online, what the satellite
    saved, and the time to recover after each event's end (`leonet.results.compare.compare`).
    Only for a run made with `leonet run SCENARIO --baseline`; otherwise 404."""
    return network.compare(_data(request), offset, limit)


@router.get("/steps", response_model=schemas.Steps,
            summary=f"The run's instants and the time each step stands for, at most {MAX_SPAN_STEPS} steps at a time")
def steps(request: Request, start_step: StartStep = None, end_step: EndStep = None):
    """A windowed calendar (time that zooms) has uneven steps: read instants here, never as
    start + step x step_s."""
    return network.steps(_data(request), start_step, end_step)


@router.get("/daily", response_model=schemas.Daily, responses=NOT_FOUND,
            summary="Day by day: dish- and time-weighted shares online by both, satellite only, ground only, none; events")
def daily(request: Request):
    return network.daily(_data(request))


StationName = Annotated[str, Query(min_length=1, max_length=200, description="A station's name (from /api/v1/pairs).")]
NO_PAIRS = {404: {"model": schemas.Problem, "description": "The run has no station pairs, or no such station or pair."}}


@router.get("/pairs", response_model=schemas.PairList, responses=NO_PAIRS,
            summary="A station-pair run's pairs, with availability and RTT over the run")
def pair_list(request: Request, offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=LIMITS["max_list"])] = 100,
              station: Annotated[str | None, Query(max_length=200, description="Only pairs with this station at either end.")] = None,
              order: Annotated[Literal["name", "rtt_p50_desc"], Query(description="name: by (src, dst); rtt_p50_desc: highest median RTT first.")] = "name"):
    return pairs.pair_list(_data(request), offset, limit, station, order)


@router.get("/pairs/history", response_model=schemas.PairHistory, responses=NO_PAIRS,
            summary=f"One pair's RTT over a window of at most {MAX_SPAN_STEPS} steps")
def pair_history(request: Request, src: StationName, dst: StationName, start_step: StartStep = None, end_step: EndStep = None):
    return pairs.history(_data(request), src, dst, start_step, end_step)


@router.get("/pairs/routes", response_model=schemas.PairRoutes, responses=NO_PAIRS,
            summary="The routes the pairs took at one step (station, satellites, station), to draw on the globe")
def pair_routes(request: Request, step: Step = None, t: When = None,
                src: Annotated[str | None, Query(max_length=200)] = None,
                dst: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=LIMITS["max_tracks"])] = 20):
    return pairs.routes(_data(request), step, t, src, dst, limit)
