"""Response shapes of the HTTP API, as pydantic models: they are the OpenAPI document.

Field names of a dish follow the Starlink dish's status API (as read by starlink-grpc-tools;
REFERENCE.md): ``state``, ``pop_ping_latency_ms``, ``pop_ping_drop_rate``,
``downlink_throughput_bps``, ``uplink_throughput_bps``, ``fraction_obstructed``,
``wedges_fraction_obstructed``, ``currently_obstructed``, ``direction_azimuth``,
``direction_elevation``, ``uptime_s``, ``alerts``. leonet's own fields sit beside them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

NOT_MODELLED = ("Not modelled yet in runs without capacity: null unless the run modelled capacity "
                "(scenario `capacity.enabled: true`), never an estimate. With capacity it is the rate "
                "leonet's max-min fair allocation gave this dish's demand at that step (dish_steps "
                "downlink_bps / uplink_bps).")

STATE_DOC = ("The dish's state in the dish's own words: CONNECTED (leonet CONNECTED, or CONGESTED: "
             "connected with a low downlink, see alerts), NO_SATS (no satellite above the minimum "
             "elevation), OBSTRUCTED (satellites in view, but the one to use is behind the dish's "
             "horizon mask), NO_PINGS (leonet's NO_PATH: a satellite is in view but no PoP is "
             "reachable through it, so pings to the PoP drop), NO_DOWNLINK (leonet's JAMMED), "
             "DISH_UNREACHABLE (leonet's OFFLINE: the dish is out of service).")

WEDGES_DOC = ("12 wedges of 30 deg clockwise from north (wedge 0 = azimuth [0, 30)). Each is the "
              "fraction of this dish's look directions in that wedge that were obstructed, over the "
              "whole run. A look direction is one (step, satellite above the minimum elevation) pair "
              "of the run's visibility table. null for a wedge no satellite crossed; the whole list "
              "is null when the run kept no visibility table.")

SPEEDTEST_DOC = ("The dish's speed test at this step (dish_steps speedtest_down_bps / speedtest_up_bps), as the "
                 "Starlink app's speed test measures it: what the dish could get now (the rate plus the spare "
                 "of the route's tightest link; with the service model the probe's fair share, then its TCP "
                 "window over the RTT). Not the throughput (downlink_throughput_bps: what the dish's own "
                 "traffic carries, often little). null when the run did not model capacity (scenario "
                 "`capacity.enabled: true`), never an estimate; 0 where the dish has no service.")

BEHIND_MASK_NOT_STORED = ("satellites behind the mask are not stored in this run: set outputs.visibility_pairs "
                          "(the visibility table's obstructed flag)")

FRACTION_DOC = ("Fraction of all this dish's look directions over the run that were obstructed (same "
                "definition as wedges_fraction_obstructed, over the whole sky). null without a "
                "visibility table.")


class StateInfo(BaseModel):
    """One dish state of leonet's vocabulary (leonet.states)."""

    name: str = Field(description="leonet's name, as in the results' state columns.")
    code: int = Field(description="The int8 code (the Parquet dictionary index).")
    dish_word: str = Field(description="What the dish's status API says in this state.")
    colour: str = Field(description="CSS colour used by the page, the report and CZML.")
    outage: bool = Field(description="Whether the state counts as an outage (lost time, availability).")
    meaning: str


class ShellSize(BaseModel):
    name: str
    satellites: int


class Sizes(BaseModel):
    satellites: int
    shells: list[ShellSize]
    dishes: int = Field(description="Dishes the run stands for: each dish site counts the dishes it stands for "
                                    "(the scenario's dishes_per_site; 1 otherwise), as /regions counts them.")
    dish_sites: int = Field(description="Dish sites simulated (rows of kind dish in sites.parquet; "
                                        "/dishes lists them): fewer than dishes when a site stands for many.")
    gateways: int
    pops: int
    stations: int
    horizon_masks: int = Field(description="Distinct horizon masks of the run (as resolved by the run, obstructions.json).")
    masked_dishes: int = Field(description="Dish sites that have a horizon mask.")


class RunInfo(BaseModel):
    name: str
    description: str
    leonet_version: str | None
    start: str = Field(description="UTC start of the run, ISO 8601.")
    step_s: float = Field(description="The calendar's (coarse) step (s); a windowed run also has finer steps inside its windows.")
    steps: int
    duration_s: float
    uniform_steps: bool = Field(True, description="True when step k starts at start + k x step_s (the last step may still be shorter: see last_step_s); false when the calendar has windows at their own steps: instants are then listed by /api/v1/steps (never start + k x step_s).")
    calendar: str = Field("", description="The calendar in words: 'N steps of S s' (with ', the last of L s (the run ends D s after its start)' when the duration is not a whole number of steps), or 'N steps (S s, and windows at ...)'.")
    last_step_s: float | None = Field(None, description="The time the last step stands for (s): step_s, or less when the run's duration is not a whole number of steps (it stops at the run's end: --duration 30.5 at 1 s steps gives 31 steps, the last of 0.5 s); null for a run without steps.")
    completed: bool
    slot_period_s: float = Field(description="The run's reconfiguration slot period (s): dishes are assigned a satellite once per slot.")
    slot_offset_s: float = Field(description="Slot boundaries fall this many seconds after each period boundary counted from the Unix epoch.")
    sizes: Sizes
    tables: list[str]
    network: bool = Field(description="Whether the run has dish routes (table dish_steps).")
    baseline: bool = Field(False, description="Whether the run has a baseline (RESULTS/baseline: the same scenario without its events, from `leonet run --baseline`): then /api/v1/compare and history's baseline=true answer.")
    events: int = Field(0, description="Events in the scenario, as the run resolved them (see /api/v1/compare for them).")
    min_elevation_deg: float | None
    states: dict[str, str] = Field(description="leonet state -> the dish's state.")
    alerts: dict[str, str] = Field(description="Every alert leonet can raise, with its meaning.")
    warnings: list[str] = Field(description="The run's warnings (as `leonet run` printed them), then the app's own (a baseline left out, an older results folder).")
    limits: dict[str, int] = Field(description="The API's bounds (maximum values of its parameters).")


class DishRef(BaseModel):
    id: str = Field(description="The dish's site name: its id in every dish route.")
    site: int = Field(description="Row of the dish in the sites table.")
    group: str
    lat_deg: float
    lon_deg: float
    dishes: int = Field(description="How many identical dishes this site stands for (the scenario's dishes_per_site; 1 otherwise).")


class DishList(BaseModel):
    total: int
    offset: int
    limit: int
    dishes: list[DishRef]


class SkyPoint(BaseModel):
    """A satellite in a dish's sky at one step (the visibility table's look angles)."""

    sat: int = Field(description="Index of the satellite (satellites table).")
    name: str | None
    azimuth_deg: float | None = Field(description="Clockwise from north (deg).")
    elevation_deg: float | None


class BlockedSat(SkyPoint):
    """The satellite an OBSTRUCTED dish is blocked from (see DishStatus.blocked_sat)."""

    was_serving: bool = Field(description="True: the satellite that served the dish earlier in this reconfiguration slot (the dish keeps its slot's satellite until the slot ends), now behind the mask; false: the highest satellite in view, behind the mask.")
    why: str = Field(description="The same in words.")


class DishStatus(BaseModel):
    id: str
    site: int
    group: str
    lat_deg: float
    lon_deg: float
    step: int
    t: str = Field(description="UTC instant of the step, ISO 8601.")
    t_s: float = Field(description="Seconds since the start of the run.")
    state: str = Field(description=STATE_DOC)
    leonet_state: str = Field(description="leonet's own state, verbatim (see /api/v1/states).")
    pop_ping_latency_ms: float | None = Field(description="Round trip dish -> PoP at this step (leonet's rtt_ms; propagation only). null when not connected.")
    pop_ping_drop_rate: float = Field(description="The share of the step's pings to the PoP that were lost: the service model's drop rate (0..1: loss at reconfigurations, 1 in an outage) where the run has it, else 1 when the dish is not CONNECTED and 0 when it is. Over a window, the history's summary gives the time-weighted mean of these per-step rates.")
    downlink_throughput_bps: float | None = Field(description=NOT_MODELLED)
    uplink_throughput_bps: float | None = Field(description=NOT_MODELLED)
    speedtest_down_bps: float | None = Field(None, description=SPEEDTEST_DOC)
    speedtest_up_bps: float | None = Field(None, description="The speed test's upload (see speedtest_down_bps).")
    fraction_obstructed: float | None = Field(description=FRACTION_DOC)
    wedges_fraction_obstructed: list[float | None] | None = Field(description=WEDGES_DOC)
    currently_obstructed: bool = Field(description="True when the state is OBSTRUCTED at this step.")
    direction_azimuth: float | None = Field(description="Azimuth (deg, clockwise from north) towards the serving satellite; null without one (in every outage state).")
    direction_elevation: float | None = Field(description="Elevation (deg) towards the serving satellite; null without one (in every outage state).")
    uptime_s: float = Field(description="Seconds since the end of the dish's last outage (or since the run's start if none): the time the connected steps before this one stand for (the calendar's step durations, /api/v1/steps; a sample window's step stands for its share of the stretch it samples); 0 while not connected.")
    connected_since: str | None
    serving_sat: int | None = Field(description="Index of the serving satellite (satellites table), only while the dish is online (CONNECTED or CONGESTED): null in every outage state (SOLD_OUT, OFFLINE, GEOFENCED, NO_PATH, ...), where no satellite serves it.")
    serving_sat_name: str | None = Field(description="The serving satellite's name; null with serving_sat.")
    gateway: str | None = Field(description="Gateway the traffic lands at (site name).")
    pop: str | None = Field(description="Point of presence (site name).")
    pop_city: str | None = Field(None, description="The PoP's city where the run's sites table has one (column city: the built-in PoP sets); null otherwise.")
    isl_hops: int | None
    hops: int | None
    path: list[int] = Field(description="Satellites of the path, serving satellite first.")
    slot_start: str = Field(description="Start of the reconfiguration slot in force (UTC); the slot period is RunInfo.slot_period_s.")
    satellites_in_view: int | None
    satellites_clear: int | None = Field(description="Satellites in view and not behind the mask.")
    satellites_behind_mask: list[SkyPoint] | None = Field(None, description="The satellites in view but behind the dish's horizon mask at this step, highest first (the visibility table's obstructed rows); null when the run does not store them (outputs.visibility_pairs off): see satellites_behind_mask_note.")
    satellites_behind_mask_note: str | None = Field(None, description="Why satellites_behind_mask is null, in words; null when it is given.")
    blocked_sat: BlockedSat | None = Field(None, description="Only when the state is OBSTRUCTED (serving_sat is then null): the satellite the dish is blocked from here: the one that served it earlier in this slot, now behind the mask (the dish keeps its slot's satellite until the slot ends), else the highest satellite in view behind the mask. null otherwise, and when the run does not store the satellites behind the mask.")
    never_online: str | None = Field(None, description="For a dish never online over the whole run: in one line, the states that took its time, with each one's share of the time and meaning (in the form `leonet dish` prints it, each state as the dish's word with leonet's state in brackets where they differ). null for a dish online at some step.")
    alerts: list[str] = Field(description="Active alerts (from the state, the sky, and the events acting on this dish now); see /api/v1/run for their meanings. The dish's hardware alerts are not modelled.")
    events: list[str] = Field(default_factory=list, description="Names of the scenario's events acting on this dish at this step (events.json; /api/v1/compare lists them).")


class HistorySummary(BaseModel):
    pop_ping_drop_rate: float | None = Field(description="The share of the window's pings lost: the mean of the per-step pop_ping_drop_rate, each step weighted by the time it stands for (a windowed run's steps are uneven). One dish's view over time: where dishes arrive over time (a deliveries event) it does not weigh steps by the share of the site's dishes there, as the run's dish-time figures (summary, report) do.")
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class BaselineHistory(BaseModel):
    name: str = Field(description="The baseline run's scenario name.")
    state: list[str | None] = Field(description="The baseline's state at the same steps (see DishStatus.state); null where the baseline lacks the step.")
    leonet_state: list[str | None]
    pop_ping_latency_ms: list[float | None] = Field(description="The baseline's latency at the same steps; null when not connected there.")
    pop_ping_drop_rate: list[float | None]
    summary: HistorySummary


class DishHistory(BaseModel):
    id: str
    start_step: int
    end_step: int = Field(description="One past the last step (half-open window).")
    start: str
    step_s: float = Field(description="Seconds between entries (the run's step: 1 s for the dish's own 1 s history).")
    steps: list[int]
    t_s: list[float]
    duration_s: list[float] | None = Field(None, description="A windowed run: the time each step stands for (s): to the next step, or its share of a sample window's stretch (time.windows[].sample; then longer than the gap to the next step, and the time between was not simulated); null when every step is step_s.")
    state: list[str]
    leonet_state: list[str]
    pop_ping_latency_ms: list[float | None]
    pop_ping_drop_rate: list[float]
    downlink_throughput_bps: list[float | None] | None = Field(description=NOT_MODELLED)
    uplink_throughput_bps: list[float | None] | None = Field(description=NOT_MODELLED)
    speedtest_down_bps: list[float | None] | None = Field(None, description="The speed test per step (see DishStatus.speedtest_down_bps); null when the run did not model capacity.")
    speedtest_up_bps: list[float | None] | None = Field(None, description="The speed test's upload per step; null when the run did not model capacity.")
    serving_sat: list[int | None] = Field(description="The serving satellite per step (see DishStatus.serving_sat): null at steps in an outage state.")
    serving_sat_name: list[str | None]
    path_changed: list[bool]
    rerouted_mid_slot: list[bool]
    slot_boundaries_s: list[float] = Field(description="Starts of the reconfiguration slots inside the window (period RunInfo.slot_period_s), seconds since the run's start.")
    summary: HistorySummary
    baseline: BaselineHistory | None = Field(None, description="With baseline=true: the same dish and steps in the run's baseline (the scenario without its events), arrays aligned with `steps`; null otherwise.")


class Outage(BaseModel):
    cause: str = Field(description="The dish's state during the outage (see DishStatus.state): NO_SATS, OBSTRUCTED, NO_PINGS, NO_DOWNLINK, DISH_UNREACHABLE.")
    leonet_state: str
    start: str
    end: str = Field(description="When service came back (or the end of the run).")
    start_step: int
    end_step: int
    start_s: float
    duration_s: float = Field(description="The time the outage's steps stand for (s): the sum of their durations (/api/v1/steps; a sample window's step stands for its share of the stretch it samples, not the gap to the next step).")
    ongoing: bool = Field(description="Still going at the end of the run.")


class Outages(BaseModel):
    id: str
    start_step: int
    end_step: int
    total: int
    truncated: bool
    seconds_by_cause: dict[str, float] = Field(description="Seconds of outage in the window by cause (the sum of the outages' duration_s).")
    outages: list[Outage]


class Track(BaseModel):
    sat: int
    name: str | None
    used: bool = Field(description="Whether the dish was ever served by this satellite (at a step in an online state); false for a satellite that was only the highest in its sky.")
    serving_steps: int
    t_s: list[float]
    breaks: list[int] = Field(default_factory=list, description="Indices i where the track breaks: points i-1 and i are not one stretch of a pass (the satellite left the dish's view between them, or they lie more than a sample or two apart in time, e.g. across a window of a windowed run; never more than 300 s), so no line joins them.")
    azimuth_deg: list[float | None]
    elevation_deg: list[float | None]
    serving: list[bool] = Field(description="Per point: whether this satellite served the dish then (only in an online state: never in an outage).")
    obstructed: list[bool] = Field(description="Below the dish's horizon mask at that point.")
    behind_mask_steps: int | None = Field(None, description="Steps at which this satellite was in view of the dish but behind its mask (the visibility table's obstructed rows); null when the run does not store them.")


class ObstructionMap(BaseModel):
    id: str
    horizon_mask_deg: list[float | None] | None = Field(description="Lowest clear elevation at azimuth 0, 1, ..., 359 deg; null for a clear sky.")
    min_elevation_deg: float | None
    fraction_obstructed: float | None = Field(description=FRACTION_DOC)
    wedges_fraction_obstructed: list[float | None] | None = Field(description=WEDGES_DOC)
    satellites_used: int
    tracks: list[Track] = Field(description="Sky tracks above the minimum elevation over the run, sampled evenly in time: the satellites the dish used (most steps first), then those highest in its sky that it never used (site_steps.best_sat) and those in view behind its mask (the visibility table, most steps first), sharing what room max_tracks leaves.")
    behind_mask_stored: bool = Field(False, description="Whether the run stores which satellites were in view behind the dish's mask (the visibility table with its obstructed flag, outputs.visibility_pairs).")
    behind_mask_note: str | None = Field(None, description="When behind_mask_stored is false, why the sky shows no satellite behind the mask, in words.")


class SatelliteColumns(BaseModel):
    total: int
    shown: int
    sat: list[int]
    shell: list[int] = Field(description="Index into shell_names.")
    lat_deg: list[float | None]
    lon_deg: list[float | None]
    alt_km: list[float | None]


class LinkColumns(BaseModel):
    total: int = Field(description="Active laser links at this instant.")
    shown: int
    a_lat_deg: list[float | None]
    a_lon_deg: list[float | None]
    b_lat_deg: list[float | None]
    b_lon_deg: list[float | None]


class GroundColumns(BaseModel):
    name: list[str]
    lat_deg: list[float | None]
    lon_deg: list[float | None]
    down_by: list[str | None] = Field(default_factory=list, description="Per site: the gateway_loss/pop_loss event that has it down at this step (events.json), or null.")


class DishColumns(BaseModel):
    total: int = Field(description="Dish sites of the run (a site may stand for many dishes).")
    shown: int = Field(description="Dish sites drawn (thinned).")
    by_state: dict[str, int] = Field(description="Every dish site of the run, counted by the dish's state (sites, not dishes: see dishes_by_state).")
    by_leonet_state: dict[str, int] = Field(description="The same, by leonet's state (CONGESTED apart from CONNECTED).")
    dishes: int = Field(0, description="Dishes the run stands for (each site counts the dishes it stands for, as /api/v1/run's sizes.dishes).")
    dishes_by_state: dict[str, int] = Field(default_factory=dict, description="Every dish of the run (each site counting its dishes, those delivered by this step where a deliveries event brings them in) by the dish's state.")
    dishes_by_leonet_state: dict[str, int] = Field(default_factory=dict, description="The same, by leonet's state.")
    dishes_of_site: list[int] = Field(default_factory=list, description="Per dish site drawn: the dishes it stands for (delivered by this step, rounded, with a deliveries event).")
    id: list[str]
    lat_deg: list[float | None]
    lon_deg: list[float | None]
    state: list[str]
    leonet_state: list[str]
    pop_ping_latency_ms: list[float | None]


class Snapshot(BaseModel):
    step: int
    t: str
    t_s: float
    shell_names: list[str]
    satellites: SatelliteColumns
    laser_links: LinkColumns
    gateways: GroundColumns
    pops: GroundColumns
    stations: GroundColumns = Field(description="The run's ground stations (a station-pair run); empty otherwise.")
    dishes: DishColumns


class Region(BaseModel):
    group: str
    dishes: int
    steps: int
    availability: float | None = Field(description="Share of dish-time not in an outage state (as `leonet summary`: each dish-step weighted by its site's dishes and the time its step stands for; CONGESTED is online, see /api/v1/states). RTT and throughput percentiles weigh dish-steps alike, over the online dish-time only (quality is reported apart from availability, which counts the outages).")
    rtt_p5_ms: float | None
    rtt_p50_ms: float | None
    rtt_p95_ms: float | None
    path_changes: int = Field(description="Dish-site steps whose satellite path (satellite, gateway, PoP) differs from the step before, as `leonet summary` and the report count them: a count of steps with dish-time (a step of a site with no dish delivered yet counts none).")
    downlink_p10_mbps: float | None = Field(None, description="10th percentile of the downlink carried (Mbps) over the group's online dish-time (outage steps left out; an idle online step counts 0), as `leonet summary` prints it. With capacity only; null when the run did not model it, or the group was never online.")
    downlink_p50_mbps: float | None = Field(None, description="The median of the same (Mbps, online dish-time).")
    uplink_p50_mbps: float | None = Field(None, description="Median uplink carried (Mbps) over the online dish-time.")
    speedtest_p50_mbps: float | None = Field(None, description="Median of the speed test (dish_steps speedtest_down_bps, Mbps) over the group's online dish-time (outage steps left out), as `leonet summary` and `leonet dish` print it; with capacity only.")
    top_gateway: str | None = Field(description="The gateway the group's dishes used for the most connected dish-time (dish-steps weighted by dishes x the time the step stands for); an exact tie names every tied gateway, sorted, joined by \" = \" (e.g. \"Foggia, IT = Milano, IT\"); null when none was used.")
    top_pop: str | None = Field(description="The PoP likewise (e.g. \"FRA = LON/LHR = MAD\" where three PoPs tie).")
    outage_steps: dict[str, int] = Field(description="Dish-site steps lost, by the dish's state (a count of steps with dish-time: neither the dishes a site stands for nor the time a step stands for, and a step of a site with no dish delivered yet counts none; see lost_s_by_cause for the time lost).")
    outage_steps_by_leonet_state: dict[str, int]
    lost_s_by_cause: dict[str, float] = Field(default_factory=dict, description="Dish-seconds lost, by the dish's state: each dish-step weighs its site's dishes x the time its step stands for (as `leonet summary` counts lost time).")
    lost_s_by_leonet_state: dict[str, float] = Field(default_factory=dict, description="The same, by leonet's outage state.")
    outage_causes: str = Field("-", description="The lost dish-time as `leonet summary` prints it, by leonet's state (as lost_s_by_leonet_state; lost_s_by_cause names the same time in the dish's words, NO_PINGS for NO_PATH), e.g. \"NO_PATH 100 dish-min, OFFLINE 133 dish-min\", \"NO_PATH 0.1 dish-s\"; \"-\" when no dish-time was lost.")


class Regions(BaseModel):
    total: int
    offset: int
    limit: int
    regions: list[Region]


class CompareEvent(BaseModel):
    name: str
    type: str = Field(description="The event type (terrestrial_outage, gateway_loss, core_outage, ...).")
    description: str
    start: str = Field(description="UTC start, ISO 8601.")
    end: str | None = Field(description="UTC end; null for an event with no end (it lasts past the run).")
    start_s: float = Field(description="Seconds since the run's start.")
    end_s: float | None
    ends_in_run: bool = Field(description="Whether the event ends within the run (only then is a recovery time measured).")
    recovery_state: str | None = Field(description="The leonet state this event type leaves a dish in (recovery is timed from it); null for types with none (e.g. terrestrial_outage).")


class Recovery(BaseModel):
    event: str
    type: str
    state: str = Field(description="The leonet state the event left the dishes in at its end.")
    median_s: float | None = Field(description="Median, over this group's dishes the event struck and left in `state` just before its end, of the seconds from its end until online again (CONNECTED for a CONGESTED state); null when that median dish did not recover within the run. The dishes it struck are its targets in events.json (every dish for a core outage; for a gateway, PoP or fibre loss, those whose route in the baseline went through a struck site then; for jamming, whose area events.json does not list, the dishes JAMMED then): a dish down from another event is not counted.")
    recovered: bool = Field(description="False when the median dish had not recovered by the end of the run.")


class OnlineBy(BaseModel):
    satellite: float | None = Field(description="Share of dish-steps online by satellite only (ground internet down).")
    ground: float | None = Field(description="Online by the ground internet only (the dish not connected).")
    both: float | None
    none: float | None = Field(description="Offline altogether.")


class CompareGroup(BaseModel):
    group: str
    dishes: int
    availability: float | None = Field(description="Share of dish-steps not in an outage state in the scenario (CONGESTED is online, as in `leonet summary`).")
    availability_baseline: float | None = Field(description="The same in the baseline (no events).")
    availability_change: float | None = Field(description="availability - availability_baseline, a share (x100: percentage points).")
    rtt_p50_ms: float | None = Field(description="Median RTT (ms) over the group's connected dish-steps in the scenario.")
    rtt_p50_ms_baseline: float | None = Field(description="The same in the baseline (ms).")
    rtt_p50_change_ms: float | None = Field(description="rtt_p50_ms - rtt_p50_ms_baseline (ms): how far the median moved.")
    rtt_matched_mean_change_ms: float | None = Field(description="Mean over (step, dish) connected in both runs of scenario RTT - baseline RTT (ms; the same dishes at the same instants).")
    rtt_matched_p50_change_ms: float | None = Field(description="The median of those matched differences (ms); often 0 when most dish-steps are unchanged, which is why it is not the median's change.")
    lost_s_by_leonet_state: dict[str, float] = Field(description="Dish-seconds lost in the scenario by outage state (NO_SATS, NO_PATH, OBSTRUCTED, OFFLINE, JAMMED; CONGESTED is online, not lost), weighted by the dishes each site stands for.")
    lost_s_by_cause: dict[str, float] = Field(description="The same in the dish's words (NO_PINGS for NO_PATH, ...).")
    online_by: OnlineBy | None = Field(description="By what users were online in the scenario: shares of the dish-time, each site's users counted by its ground level (dish_steps.ground_level; dish_steps.online_by, the majority, for older runs); null when the run has no terrestrial comparison.")
    saved_by_satellite_s: float | None = Field(description="Dish-seconds online by satellite only: what the satellite saved while the ground internet was down.")
    recovery: list[Recovery] = Field(description="Per event that ended within the run and left some of the group's dishes it struck down at its end (see Recovery.median_s); an event that struck none of them is not listed.")


class Compare(BaseModel):
    scenario: str
    baseline: str = Field(description="The baseline run's scenario name (the scenario without its events, deliveries kept).")
    step_s: float
    events_total: int
    events: list[CompareEvent] = Field(description="The scenario's events (the first 1,000).")
    total: int = Field(description="Dish groups.")
    offset: int
    limit: int
    groups: list[CompareGroup]


class PairRef(BaseModel):
    src: str = Field(description="The first station's name (each direction is its own pair).")
    dst: str
    steps: int = Field(description="Steps the run computed for this pair.")
    availability: float | None = Field(description="Share of those steps with a route.")
    rtt_p50_ms: float | None = Field(description="Median RTT over the steps with a route (ms).")
    rtt_p95_ms: float | None


class PairList(BaseModel):
    total: int = Field(description="Pairs matching the query.")
    offset: int
    limit: int
    stations: int
    pairs: list[PairRef]


class PairHistory(BaseModel):
    src: str
    dst: str
    start_step: int
    end_step: int
    start: str
    step_s: float
    steps: list[int]
    t_s: list[float]
    rtt_ms: list[float | None] = Field(description="RTT per step (ms); null where the pair had no route.")
    hops: list[int | None]
    path_changed: list[bool]
    availability: float | None = Field(description="Share of the window's steps with a route.")
    rtt_p50_ms: float | None
    rtt_p95_ms: float | None


class PairRoute(BaseModel):
    src: str
    dst: str
    rtt_ms: float | None
    path: list[int] = Field(description="Satellite indices from src to dst.")
    lon_deg: list[float | None] = Field(description="The route's points: src station, each satellite at this step, dst station.")
    lat_deg: list[float | None]


class PairRoutes(BaseModel):
    step: int
    t: str
    total: int = Field(description="Pairs at this step matching the query.")
    shown: int
    routes: list[PairRoute]


class Problem(BaseModel):
    detail: str


class Steps(BaseModel):
    """The run's instants over a window of steps (uniform or windowed calendar)."""

    start_step: int
    end_step: int = Field(description="One past the last step (half-open window).")
    uniform_steps: bool
    calendar: str = Field(description="The calendar in words.")
    t: list[str] = Field(description="Each step's instant (UTC, ISO 8601).")
    t_s: list[float] = Field(description="Seconds after the run's start.")
    duration_s: list[float] = Field(description="The time each step stands for (s): to the next step, the last one to the calendar's end.")


class Day(BaseModel):
    """One UTC day of the run (leonet.results.timeline.daily_table): dish- and time-weighted shares."""

    day: str
    hours: float
    steps: int
    dish_hours: float
    online: float | None = Field(description="Share of dish-time online by satellite (not in an outage state).")
    online_both: float | None = None
    online_satellite: float | None = None
    online_ground: float | None = None
    online_none: float | None = None
    events: list[str] = Field(default_factory=list, description="Events acting that day: 'name (type)'.")


class Daily(BaseModel):
    calendar: str
    days: list[Day]
