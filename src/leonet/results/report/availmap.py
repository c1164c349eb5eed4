"""The report's "Availability per region" section: each dish group on a world map at the centroid
of its dishes, coloured by availability and sized by dishes (the base map embedded, see
:func:`.markup.world_topojson`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .markup import Plots, esc, fmt
from .run import ReportRun


def map_section(run: ReportRun, plots: Plots) -> str:
    """Availability per dish group on a map (gateways and PoPs hidden at first)."""
    import plotly.graph_objects as go

    dishes = run.sites[run.sites["kind"] == "dish"].assign(group=lambda x: run.dish_group[x.index.to_numpy()])
    lat, lon = np.radians(dishes["lat_deg"].to_numpy()), np.radians(dishes["lon_deg"].to_numpy())
    xyz = pd.DataFrame({"x": np.cos(lat) * np.cos(lon), "y": np.cos(lat) * np.sin(lon), "z": np.sin(lat),
                        "group": dishes["group"].to_numpy()}).groupby("group", sort=False).mean()
    cen = pd.DataFrame({"lat": np.degrees(np.arctan2(xyz["z"], np.hypot(xyz["x"], xyz["y"]))),
                        "lon": np.degrees(np.arctan2(xyz["y"], xyz["x"]))})
    g = run.groups.set_index("group").join(cen, how="inner")
    avail = g["availability"].to_numpy(dtype=np.float64) * 100.0
    size = 12 + 30 * np.sqrt(g["dishes"].to_numpy() / max(1, g["dishes"].max()))
    cmin = float(min(95.0, np.floor(np.nanmin(avail)) if len(avail) else 95.0))
    hover = [f"<b>{esc(name)}</b><br>{int(r['dishes']):,} dishes<br>availability {r['availability'] * 100:.2f} %"
             f"<br>RTT p50 {fmt(r.get('rtt_p50_ms'))} ms" for name, r in g.iterrows()]
    fig = go.Figure()
    for kind, symbol, colour, label in (("gateway", "triangle-up", "#555", "gateways"), ("pop", "square", "#1f3c88", "PoPs")):
        s = run.sites[run.sites["kind"] == kind]
        if len(s):
            fig.add_trace(go.Scattergeo(lat=s["lat_deg"], lon=s["lon_deg"], mode="markers", name=label,
                                        text=s["name"], hoverinfo="text", visible="legendonly",
                                        marker=dict(symbol=symbol, size=7, color=colour)))
    fig.add_trace(go.Scattergeo(
        lat=g["lat"], lon=g["lon"], mode="markers+text", text=[str(x) for x in g.index], textposition="top center",
        hovertext=hover, hoverinfo="text", name="dish groups",
        marker=dict(size=size, color=avail, cmin=cmin, cmax=100.0, colorscale="RdYlGn", showscale=True,
                    line=dict(color="#333", width=1), colorbar=dict(title="availability (%)"))))
    lat_lo, lat_hi = float(g["lat"].min()), float(g["lat"].max())
    lon_lo, lon_hi = float(g["lon"].min()), float(g["lon"].max())
    span = max(lat_hi - lat_lo, (lon_hi - lon_lo) * 0.6, 6.0)
    geo = dict(projection_type="natural earth", showcountries=True, countrycolor="#bbb", showland=True,
               landcolor="#f2efe9", showocean=True, oceancolor="#e6f0f7", showlakes=True, lakecolor="#e6f0f7",
               coastlinecolor="#999", resolution=110)
    if span < 120:
        geo.update(lataxis_range=[max(-90, lat_lo - span * 0.6), min(90, lat_hi + span * 0.6)],
                   lonaxis_range=[max(-180, lon_lo - span), min(180, lon_hi + span)])
    fig.update_layout(title="Availability per dish group", geo=geo, legend=dict(x=0, y=0))
    plots.needs_geo = True
    return ('<p class="explain">Each circle is a dish group at the centroid of its dishes: its colour is the '
            'group\'s availability and its area grows with the number of dishes. Click <i>gateways</i> or '
            '<i>PoPs</i> in the legend to show the ground segment. The base map (Natural Earth 1:110m) is '
            'embedded in this file.</p>' + plots.div(fig, "plot-availability-map", height=520))
