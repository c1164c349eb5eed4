"""The result tables: one pyarrow schema per table, declared once, and the words behind each coded
column. :mod:`leonet.sim.stages.tables` builds every table from these; nothing else declares a
column's type.

One row per ...

- ``site_steps``: (step, site);
- ``visibility``: (step, site, satellite in view), optional (``outputs.visibility_pairs``);
- ``dish_steps``: (step, dish), with :data:`DISH_CAPACITY` appended when the capacity model is on;
- ``pair_steps``: (step, station pair);
- ``network_steps``: (step);
- ``load_steps``: (step, direction, busy link), with the capacity model;
- ``positions``: (step, satellite), optional (``outputs.positions``).

Times are UTC nanosecond timestamps (``t``: the step; ``slot_start``: the start of its
reconfiguration slot, whose period is the scenario's ``network.slots.period_s``). Site, satellite,
gateway and PoP columns are indices into the results' ``sites`` and ``satellites`` tables (-1:
none). ``path`` lists satellites (the serving one first). Units are in the names.

Column order and types are part of the results' contract (the golden check of
``tests/golden/record_presets.py`` hashes them): add columns at the end, never reorder.
"""

from __future__ import annotations

import pyarrow as pa

from ..capacity.model import BOTTLENECKS
from ..states import STATE_NAMES

TIME = pa.timestamp("ns", tz="UTC")
#: A coded column: int8 codes into a fixed vocabulary (:data:`VOCABULARY`), stored as a dictionary.
CODE = pa.dictionary(pa.int8(), pa.string())
#: Satellites along a route, serving satellite first.
PATH = pa.list_(pa.int32())

#: By what a user is online at a step: satellite and ground, satellite only, ground only, neither.
ONLINE_BY = ("both", "satellite", "ground", "none")
#: Directions of ``load_steps``.
DIRECTIONS = ("down", "up")

#: Coded column name -> its words in code order (the Parquet dictionary).
VOCABULARY: dict[str, tuple[str, ...]] = {
    "state": STATE_NAMES,
    "online_by": ONLINE_BY,
    "bottleneck": BOTTLENECKS,
    "kind": BOTTLENECKS,
    "direction": DIRECTIONS,
}

SITE_STEPS = pa.schema([
    ("t", TIME),
    ("site", pa.int32()),
    ("n_visible", pa.int16()),           # satellites in view by the visibility rule
    ("n_clear", pa.int16()),             # ... and not behind the site's obstruction mask
    ("best_sat", pa.int32()),            # the highest clear satellite, -1 none
    ("best_elevation_deg", pa.float32()),
    ("best_range_m", pa.float32()),
])

VISIBILITY = pa.schema([
    ("t", TIME),
    ("site", pa.int32()),
    ("sat", pa.int32()),
    ("elevation_deg", pa.float32()),
    ("azimuth_deg", pa.float32()),
    ("range_m", pa.float32()),
    ("obstructed", pa.bool_()),          # in view by the rule, but behind the site's obstruction mask
])

DISH_STEPS = pa.schema([
    ("t", TIME),
    ("site", pa.int32()),
    ("slot_start", TIME),
    ("serving_sat", pa.int32()),
    ("state", CODE),                     # leonet.states
    ("rtt_ms", pa.float32()),            # dish -> PoP and back: propagation (+ queueing with capacity)
    ("gateway", pa.int32()),             # site index
    ("pop", pa.int32()),                 # site index
    ("isl_hops", pa.int16()),
    ("hops", pa.int16()),                # dish-sat, lasers, sat-gateway, gateway-PoP
    ("path", PATH),
    ("path_changed", pa.bool_()),        # serving satellite, gateway, PoP or path differ from the step before
    ("rerouted_mid_slot", pa.bool_()),   # the slot's route broke and the dish was rerouted
    ("ground_online", pa.bool_()),       # the terrestrial alternative works
    ("ground_rtt_ms", pa.float32()),     # fibre to the nearest internet exchange and back
    ("online_by", CODE),                 # ONLINE_BY
])

#: Columns appended to ``dish_steps`` by the capacity model.
DISH_CAPACITY = pa.schema([
    ("downlink_bps", pa.float64()),
    ("uplink_bps", pa.float64()),
    ("demand_down_bps", pa.float64()),
    ("demand_up_bps", pa.float64()),
    ("speedtest_down_bps", pa.float64()),  # the speed test: the rate plus the tightest link's spare (capacity only); with the service model the probe's fair share, then its TCP window over rtt_ms
    ("speedtest_up_bps", pa.float64()),
    ("unmet_down_bps", pa.float64()),
    ("bottleneck", CODE),                # capacity.model.BOTTLENECKS
    ("sinr_down_db", pa.float32()),
    ("sinr_up_db", pa.float32()),
    ("efficiency_down_bps_per_hz", pa.float32()),
    ("queue_ms", pa.float32()),          # queueing delay in rtt_ms: both directions (capacity only); the dish's own downlink queue (service model)
])

#: Columns appended to ``dish_steps`` by the service model (``service.enabled``; after the capacity
#: columns). With it, ``rtt_ms`` is the dish's 1 Hz latency (propagation + MAC + processing +
#: queueing + PoP-to-target + jitter; docs/service-model.md), and the rate and demand columns are
#: per active dish (``dishes_on`` of the site's ``dishes_admitted``).
DISH_SERVICE = pa.schema([
    ("drop_rate", pa.float32()),         # share of pings lost over the step's seconds (up to one 15 s cycle), 0..1 (1 in an outage)
    ("rtt_loaded_ms", pa.float32()),     # RTT during a speed test (the dish's buffer full)
    ("home_pop", pa.int32()),            # site index of the dish's home PoP (network.home_pop), -1: any
    ("kit_down_bps", pa.float64()),      # the dish kit's caps (service.kit or the site's kit)
    ("kit_up_bps", pa.float64()),
    ("dishes_admitted", pa.int32()),     # dishes of the site with a service plan (the rest: sold out)
    ("dishes_on", pa.int32()),           # dishes of the site active now (on/off traffic)
    ("background_down_bps", pa.float64()),  # background load offered to the serving satellite
    ("propagation_rtt_ms", pa.float32()),   # the route's round trip alone (light in space and fibre, dish -> exit PoP); NaN unless online
])

PAIR_STEPS = pa.schema([
    ("t", TIME),
    ("src", pa.int32()),
    ("dst", pa.int32()),
    ("rtt_ms", pa.float32()),
    ("hops", pa.int16()),
    ("path", PATH),
    ("path_changed", pa.bool_()),
])

#: (``t`` comes last here, as it always has.)
NETWORK_STEPS = pa.schema([
    ("isl_active", pa.int32()),
    ("isl_dropped_grazing", pa.int32()),
    ("isl_dropped_range", pa.int32()),
    ("isl_dropped_failed", pa.int32()),
    ("feeder_links", pa.int32()),
    ("t", TIME),
])

LOAD_STEPS = pa.schema([
    ("t", TIME),
    ("direction", CODE),                 # DIRECTIONS
    ("kind", CODE),                      # capacity.model.BOTTLENECKS: beam/satellite/laser/feeder/pop
    ("a", pa.int32()),                   # beam: sat; satellite: sat; laser: from sat; feeder: gateway site; pop: PoP site
    ("b", pa.int32()),                   # beam: cell; laser: to sat; feeder: sat; else -1
    ("load_bps", pa.float64()),
    ("utilisation", pa.float32()),       # share of capacity used (airtime for beams)
])

POSITIONS = pa.schema([
    ("t", TIME),
    ("sat", pa.int32()),
    ("x_m", pa.float64()),               # ECEF, lost satellites included (they still orbit)
    ("y_m", pa.float64()),
    ("z_m", pa.float64()),
    ("error_code", pa.int8()),           # SGP4's (0: fine)
])


#: Columns appended last to every ``dish_steps`` (after the capacity and service columns).
DISH_EVENTS = pa.schema([
    ("ground_level", pa.float32()),      # share of the site's users whose ground internet works (0..1)
])


#: Appended last to ``dish_steps`` when an event brings dishes in over time (``deliveries``).
DISH_DELIVERIES = pa.schema([
    ("delivered", pa.float32()),         # share of the site's dishes delivered at t (0..1): its dish-time weighs dishes x this
])


def dish_steps_schema(capacity: bool, service: bool = False, deliveries: bool = False) -> pa.Schema:
    """``dish_steps``' schema, with the capacity columns or without (and the service columns); the
    ground level after them, and last the delivered share with a ``deliveries`` event."""
    return pa.schema(list(DISH_STEPS) + (list(DISH_CAPACITY) if capacity else [])
                     + (list(DISH_SERVICE) if capacity and service else []) + list(DISH_EVENTS)
                     + (list(DISH_DELIVERIES) if deliveries else []))
