"""The report's "Satellites in view" section: per kind and group of sites, how many satellites
were above the minimum elevation, and the gaps (from :func:`leonet.results.summary.coverage_summary`,
a block of sites at a time)."""

from __future__ import annotations

from ..summary import coverage_summary
from .markup import num_cell, text_cell
from .run import ReportRun


def coverage_section(run: ReportRun) -> str:
    cov = coverage_summary(run.store, budget_rows=run.budget_rows).by_group()
    rows = "".join(
        "<tr>" + text_cell(r["kind"]) + text_cell(r["group"]) + num_cell(r["sites"], 0)
        + num_cell(r["visible_min"], 0) + num_cell(r["visible_median"], 1) + num_cell(r["visible_max"], 0)
        + num_cell(r["gap_steps"], 0) + num_cell(r["longest_gap_s"], 1) + "</tr>"
        for _, r in cov.iterrows())
    weighted = "" if run.cal.even else " (each step weighted by the time it stands for)"
    return ('<p class="explain">Satellites above the minimum elevation of each site, per step, aggregated per '
            f'kind and group: a site\'s median is over the run\'s time{weighted}, a group\'s the median of its '
            'sites\'. A gap is a step with no satellite in view.</p>'
            '<table id="coverage-summary"><thead><tr><th>kind</th><th>group</th><th>sites</th>'
            '<th>in view: min</th><th>median</th><th>max</th><th>steps with none</th>'
            f'<th>longest gap (s)</th></tr></thead><tbody>{rows}</tbody></table>')
