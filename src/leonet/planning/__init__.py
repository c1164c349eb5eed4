"""Planning studies: many variants of one scenario, and the questions planners ask of them.

- :mod:`.metrics`: region metrics of one run (availability, p10 throughput, unmet demand, RTT),
  read from its results folder;
- :mod:`.targets`: targets such as ``"unmet_demand<=0.01,availability>=0.99"``;
- :mod:`.variants`: variants of a scenario run as one study (local processes or Dask), one tidy
  table out;
- :mod:`.contingency`: N-1 / N-2 ranking of gateways, PoPs, fibre links, planes or events;
- :mod:`.capacity_limit`: the most dishes that still meet a target, and the binding link.
"""
