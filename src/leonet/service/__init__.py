"""The service model's building blocks (issue 11): small, pure, vectorised functions that the
simulation's stages call. Each module holds one idea:

- :mod:`.rng` a counter-based random number generator: every draw is a pure function of
  (seed, stream, keys), so chunks computed in any order agree;
- :mod:`.kits` the user terminal as a link (dish kits as validated data, their caps);
- :mod:`.traffic` demand as on/off traffic with a diurnal profile and a mix of uses; speed tests;
- :mod:`.background` the load of subscribers outside the scenario on each satellite's footprint;
- :mod:`.admission` cells with a subscriber limit ("sold out");
- :mod:`.latency` RTT as users measure it, jitter, reconfiguration disturbances, loss, outages;
- :mod:`.quality` availability as the dish counts it, quality apart, Starlink's percentiles;
- :mod:`.spec` the scenario schema proposed for a ``service:`` section.

The model term by term, with sources: ``docs/service-model.md``.
"""
