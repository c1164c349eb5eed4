// leonet app: the globe and a dish's app view. Everything shown comes from the JSON API under
// /api/v1 (see /openapi.json); plotly.js and the world map are served by this same server.
"use strict";

// State colours and words come from the server (/api/v1/states, leonet.states): keyed by leonet's
// name and by the dish's word (a word shared by two states takes the first state's colour).
const STATE_COLOURS = {};
const SHELL_COLOURS = ["#d0d8e8", "#7fb3ff", "#ffd27f", "#ff9fd2", "#9fffcf", "#c7a0ff", "#ffa07f", "#a0fff5", "#e0ff7f"];
const DARK = { paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { color: "#e8ecf2", size: 11 } };
const PLOT_CONFIG = { displaylogo: false, responsive: true, topojsonURL: "/static/" };

const app = {
  run: null, step: 0, playing: false, timer: null, busy: false, pending: null,
  dish: null, snapshot: null, history: null,
};
window.leonetApp = app; // for tests and for the curious

const $ = (id) => document.getElementById(id);

// The page is opened as /?token=T (a server listening beyond this machine wants its token on every
// API call) and /?dish=NAME (open that dish's view at start, as `leonet dish` does).
const PAGE_QUERY = new URLSearchParams(window.location.search);
const TOKEN = PAGE_QUERY.get("token");

async function api(path, params = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) query.set(k, v);
  const url = `/api/v1/${path}${query.toString() ? "?" + query : ""}`;
  const response = await fetch(url, TOKEN ? { headers: { "X-Leonet-Token": TOKEN } } : {});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new Error(`${url}: ${response.status} ${detail || response.statusText}`);
  }
  return body;
}

function showError(err) {
  const box = $("error");
  box.textContent = String(err.message || err);
  box.hidden = false;
  console.error(err);
}

function showWarnings(warnings) {
  // The run's warnings (as `leonet run` printed them) and the app's own.
  const box = $("warnings");
  box.replaceChildren(...warnings.map((w) => {
    const li = document.createElement("li");
    li.textContent = w;
    return li;
  }));
  box.hidden = warnings.length === 0;
}

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// A state word on its colour (/api/v1/states).
const badge = (word) => `<span class="badge" style="background: ${esc(STATE_COLOURS[word] || "#bbbbbb")}">${esc(word)}</span>`;

// One vocabulary on the whole page (/api/v1/states, leonet.states): a state is the dish's word,
// with leonet's name in brackets where the two differ: "NO_PINGS (NO_PATH)", "OBSTRUCTED".
function stateLabel(leonetState) {
  const st = (app.states || []).find((x) => x.name === leonetState);
  const word = st ? st.dish_word : leonetState;
  return word === leonetState ? word : `${word} (${leonetState})`;
}

// The leonet state of a dish's word where it names an outage (one state per outage word).
function outageStateOf(word) {
  const st = (app.states || []).find((x) => x.dish_word === word && x.outage);
  return st ? st.name : word;
}

// The same, from the dish's word (an outage's cause, a count by the dish's state).
const wordLabel = (word) => stateLabel(outageStateOf(word));

// A badge of the dish's word, leonet's state beside it in brackets where they differ.
function stateBadge(word, leonetState) {
  const name = leonetState === undefined ? outageStateOf(word) : leonetState;
  return badge(word) + (name !== word ? ` <span class="muted">(${esc(name)})</span>` : "");
}

// Numbers as Python prints them (`f"{v:.1f}"`), so the app and `leonet summary` agree to the last
// digit: both round the float's exact value, but on an exact tie (12.5) JavaScript's toFixed goes
// away from zero and Python to even (12.5 -> "12", not "13").
function fixed(v, digits) {
  const up = v.toFixed(digits);
  if (!Number.isFinite(v)) return up;
  const exact = Math.abs(v).toFixed(Math.min(100, digits + 70));  // the float's whole decimal value
  const cut = exact.indexOf(".") + digits + (digits > 0 ? 1 : 0);
  if (!/^50*$/.test(exact.slice(cut + (digits > 0 ? 0 : 1)))) return up;  // not a tie
  const down = exact.slice(0, cut);
  return Number(down[down.length - 1]) % 2 === 0 ? (v < 0 ? "-" : "") + down : up;
}

const fmt = (v, digits = 1, unit = "") => (v === null || v === undefined ? "-" : `${fixed(Number(v), digits)}${unit}`);

// A share of pings lost (0..1) as a percentage: 0.2667 -> "26.7 %" (a few pings lost are not "0").
const dropText = (v) => (v === null || v === undefined ? "-" : `${fixed(100 * v, 1)} %`);

// Whether a leonet state is an outage (/api/v1/states; an unknown state counts as one).
function isOutage(leonetState) {
  const st = (app.states || []).find((x) => x.name === leonetState);
  return st ? st.outage : leonetState !== "CONNECTED";
}

// A windowed run (time that zooms) has uneven steps: their instants come from /api/v1/steps,
// a page at a time, and are kept here (step -> seconds after the start).
const stepSeconds = new Map();

async function loadStepTimes(step) {
  if (app.run.uniform_steps !== false || stepSeconds.has(step)) return;
  const max = app.run.limits.max_history_steps;
  const start = Math.max(0, step - Math.floor(max / 2));
  const page = await api("steps", { start_step: start, end_step: Math.min(app.run.steps, start + max) });
  page.t_s.forEach((ts, i) => stepSeconds.set(page.start_step + i, ts));
}

function secondsOf(step) {
  if (app.run.uniform_steps === false) {
    const ts = stepSeconds.get(step);
    if (ts !== undefined) return ts;
  }
  return step * app.run.step_s;
}

function timeOf(step) {
  const start = Date.parse(app.run.start);
  return new Date(start + secondsOf(step) * 1000);
}

function isoOfSeconds(ts) {
  return new Date(Date.parse(app.run.start) + ts * 1000).toISOString();
}

// ---- the globe -------------------------------------------------------------------------------

function globeTraces(snap) {
  const traces = [];
  const links = snap.laser_links;
  const llon = [], llat = [];
  for (let i = 0; i < links.a_lat_deg.length; i++) {
    llon.push(links.a_lon_deg[i], links.b_lon_deg[i], null);
    llat.push(links.a_lat_deg[i], links.b_lat_deg[i], null);
  }
  traces.push({
    type: "scattergeo", mode: "lines", name: `laser links (${links.shown} of ${links.total})`,
    lon: llon, lat: llat, line: { width: 0.6, color: "rgba(80,220,255,0.35)" }, hoverinfo: "skip",
  });
  const sats = snap.satellites;
  traces.push({
    type: "scattergeo", mode: "markers", name: `satellites (${sats.shown} of ${sats.total})`,
    lon: sats.lon_deg, lat: sats.lat_deg,
    marker: { size: 3, color: sats.shell.map((s) => SHELL_COLOURS[s % SHELL_COLOURS.length]), opacity: 0.9 },
    text: sats.sat.map((s, i) => `sat ${s} - ${snap.shell_names[sats.shell[i]]}, ${sats.alt_km[i]} km`),
    hoverinfo: "text",
  });
  traces.push({
    type: "scattergeo", mode: "markers", name: `gateways (${snap.gateways.name.length})`,
    lon: snap.gateways.lon_deg, lat: snap.gateways.lat_deg, text: snap.gateways.name, hoverinfo: "text",
    marker: { size: 7, symbol: "triangle-up", color: "#ff8c42", line: { width: 0.5, color: "#000" } },
  });
  traces.push({
    type: "scattergeo", mode: "markers", name: `PoPs (${snap.pops.name.length})`,
    lon: snap.pops.lon_deg, lat: snap.pops.lat_deg, text: snap.pops.name, hoverinfo: "text",
    marker: { size: 9, symbol: "square", color: "#ff4fd8", line: { width: 0.5, color: "#000" } },
  });
  // Gateways and PoPs struck by an event (events.json) at this step: a red cross over them.
  const down = [];
  for (const [label, g] of [["gateway", snap.gateways], ["PoP", snap.pops]]) {
    (g.down_by || []).forEach((ev, i) => { if (ev) down.push({ lon: g.lon_deg[i], lat: g.lat_deg[i], text: `${g.name[i]}: ${label} DOWN (event ${ev})` }); });
  }
  if (down.length) {
    traces.push({
      type: "scattergeo", mode: "markers", name: `struck gateways/PoPs (${down.length})`,
      lon: down.map((x) => x.lon), lat: down.map((x) => x.lat), text: down.map((x) => x.text), hoverinfo: "text",
      marker: { size: 14, symbol: "x", color: "#ff2020", line: { width: 2, color: "#ff2020" } },
    });
  }
  const st = snap.stations;
  if (st && st.name.length) {
    traces.push({
      type: "scattergeo", mode: "markers", name: `stations (${st.name.length})`,
      lon: st.lon_deg, lat: st.lat_deg, text: st.name, hoverinfo: "text",
      marker: { size: 8, symbol: "diamond", color: "#7CFC00", line: { width: 0.5, color: "#000" } },
    });
  }
  if (app.pairRoutes) traces.push(...pairRouteTraces(snap, app.pairRoutes));
  const d = snap.dishes;
  // Dishes by the dish's state; congested ones (the dish says CONNECTED) drawn apart. A site may
  // stand for many dishes: the counts are of dishes (and of sites where they differ).
  const shownAs = d.state.map((s, i) => (d.leonet_state[i] === "CONGESTED" ? "CONGESTED" : s));
  const sites = dishCounts(d.by_state, d.by_leonet_state);
  const counts = dishCounts(d.dishes_by_state || d.by_state, d.dishes_by_leonet_state || d.by_leonet_state);
  // Outage states first, online ones (CONNECTED, CONGESTED) last: drawn on top, so where a site
  // admitted in part stands at the same place as its sold-out part, the served dishes are the
  // ones seen, hovered and clicked.
  const online = (state) => (state === "CONGESTED" || !isOutage(outageStateOf(state)) ? 1 : 0);
  const states = [...new Set([...Object.keys(STATE_COLOURS), ...Object.keys(counts)])]
    .sort((a, b) => online(a) - online(b));  // stable: the vocabulary's order within each
  for (const state of states) {
    const idx = shownAs.map((s, i) => (s === state ? i : -1)).filter((i) => i >= 0);
    const count = counts[state] || 0, nSites = sites[state] || 0;
    if (!idx.length && !count) continue;
    const n = count === nSites ? num(count) : `${num(count)} at ${num(nSites)} sites`;
    const many = (i) => (d.dishes_of_site && d.dishes_of_site[i] > 1 ? ` (${num(d.dishes_of_site[i])} dishes)` : "");
    traces.push({
      type: "scattergeo", mode: "markers", name: `dishes ${state === "CONGESTED" ? stateLabel("CONGESTED") : wordLabel(state)}: ${n}`,
      lon: idx.map((i) => d.lon_deg[i]), lat: idx.map((i) => d.lat_deg[i]),
      customdata: idx.map((i) => d.id[i]),
      text: idx.map((i) => `${d.id[i]}${many(i)}: ${state === "CONGESTED" ? stateLabel("CONGESTED") : wordLabel(state)}${d.pop_ping_latency_ms[i] !== null ? ", " + d.pop_ping_latency_ms[i] + " ms" : ""}`),
      hoverinfo: "text",
      marker: { size: 8, color: STATE_COLOURS[state] || "#bbbbbb", line: { width: 1, color: "#000" } },
    });
  }
  if (app.dish && app.status && app.status.serving_sat !== null) traces.push(...routeTraces(snap));
  return traces;
}

const num = (n) => Number(n).toLocaleString("en-US");

// Counts by the dish's state with the congested apart from the connected (by leonet's state).
function dishCounts(byState, byLeonetState) {
  const counts = { ...byState };
  if (byLeonetState.CONGESTED) {
    counts.CONGESTED = byLeonetState.CONGESTED;
    counts.CONNECTED = (counts.CONNECTED || 0) - byLeonetState.CONGESTED;
  }
  return counts;
}

function routeTraces(snap) {
  // The selected dish's path now: dish -> satellites -> gateway -> PoP.
  const st = app.status;
  const where = new Map(snap.satellites.sat.map((s, i) => [s, i]));
  const lon = [st.lon_deg], lat = [st.lat_deg];
  for (const s of st.path) {
    if (!where.has(s)) return [];
    lon.push(snap.satellites.lon_deg[where.get(s)]);
    lat.push(snap.satellites.lat_deg[where.get(s)]);
  }
  for (const [name, ground] of [[st.gateway, snap.gateways], [st.pop, snap.pops]]) {
    const k = ground.name.indexOf(name);
    if (k >= 0) { lon.push(ground.lon_deg[k]); lat.push(ground.lat_deg[k]); }
  }
  return [{
    type: "scattergeo", mode: "lines+markers", name: `route of ${st.id}`, lon, lat, hoverinfo: "skip",
    line: { width: 2.5, color: "#ffffff" }, marker: { size: 4, color: "#ffffff" },
  }];
}

function globeLayout(snap) {
  const d = snap.dishes;
  let lon = 20, lat = 45;
  if (d.lon_deg.length) {
    lon = d.lon_deg.reduce((a, b) => a + b, 0) / d.lon_deg.length;
    lat = d.lat_deg.reduce((a, b) => a + b, 0) / d.lat_deg.length;
  }
  return {
    ...DARK, uirevision: "globe", margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: true,
    legend: { x: 0.01, y: 0.99, bgcolor: "rgba(11,14,19,0.7)", font: { size: 11 } },
    geo: {
      projection: { type: "orthographic", rotation: { lon, lat: Math.max(-60, Math.min(60, lat - 10)) } },
      showland: true, landcolor: "#1e2a24", showocean: true, oceancolor: "#0d1b2e",
      showcountries: true, countrycolor: "#3a4a44", showcoastlines: true, coastlinecolor: "#557060",
      showframe: false, bgcolor: "rgba(0,0,0,0)", lataxis: { showgrid: true, gridcolor: "#1b2433" },
      lonaxis: { showgrid: true, gridcolor: "#1b2433" },
    },
  };
}

async function drawGlobe(step) {
  const snap = await api("snapshot", { step });
  app.snapshot = snap;
  const globe = $("globe");
  await Plotly.react(globe, globeTraces(snap), globeLayout(snap), PLOT_CONFIG);
  if (!globe.dataset.clicks) {
    globe.on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (p && typeof p.customdata === "string") selectDish(p.customdata);
    });
    globe.dataset.clicks = "1";
  }
  // Dishes, each site counting the dishes it stands for (as /api/v1/run's sizes.dishes).
  const d = snap.dishes;
  const byState = d.dishes_by_state || d.by_state, byLeonet = d.dishes_by_leonet_state || d.by_leonet_state;
  const congested = byLeonet.CONGESTED;
  const counts = Object.entries(byState).map(([s, n]) => `${wordLabel(s)} ${num(n)}`).join(", ") +
    (congested ? ` (${num(congested)} of them congested)` : "");
  const nDishes = d.dishes || d.total;
  const what = nDishes === d.total ? `dishes` : `dishes (${num(nDishes)} at ${num(d.total)} dish sites)`;
  $("globe-counts").textContent =
    `${snap.t} - ${num(snap.satellites.total)} satellites, ${num(snap.laser_links.total)} laser links active; ${what}: ${counts || "none"}` +
    (d.shown < d.total ? ` (${num(d.shown)} of ${num(d.total)} dish sites drawn)` : "");
  globe.dataset.step = String(step);
}

// ---- time -----------------------------------------------------------------------------------------

function setTimeLabel(step) {
  $("time-label").textContent = `${timeOf(step).toISOString().replace(".000Z", "Z")}  (step ${step} of ${app.run.steps - 1})`;
}

async function goTo(step) {
  app.step = step;
  try { await loadStepTimes(step); } catch (err) { showError(err); }
  $("slider").value = String(step);
  setTimeLabel(step);
  if (app.busy) { app.pending = step; return; }
  app.busy = true;
  try {
    if (app.dish) await updateDishAt(step);
    if (app.pair) await updatePairRoutes(step);
    await drawGlobe(step);
  } catch (err) {
    showError(err);
  } finally {
    app.busy = false;
  }
  if (app.pending !== null) {
    const next = app.pending;
    app.pending = null;
    if (next !== step) await goTo(next);
  }
}

// The step play shows next: `speed` steps on, but never past the last step (so the run's last
// steps, an outage at its end, are shown), and back to the start only after the last was shown.
function nextPlayStep(step, speed, steps) {
  const last = Math.max(0, steps - 1);
  return step >= last ? 0 : Math.min(step + speed, last);
}

function togglePlay() {
  app.playing = !app.playing;
  $("play").innerHTML = app.playing ? "&#10074;&#10074; Pause" : "&#9654; Play";
  if (app.playing) {
    const tick = async () => {
      if (!app.playing) return;
      if (!app.busy) await goTo(nextPlayStep(app.step, Number($("speed").value), app.run.steps));
      app.timer = setTimeout(tick, 400);
    };
    tick();
  } else if (app.timer) {
    clearTimeout(app.timer);
  }
}

// ---- a dish ---------------------------------------------------------------------------------------

// The window of steps whose history is loaded for the dish view: at most max_history_steps (the
// API's bound), centred on the slider.
function historyWindow(step) {
  const n = app.run.steps, max = app.run.limits.max_history_steps;
  const start = n <= max ? 0 : Math.max(0, Math.min(step - Math.floor(max / 2), n - max));
  return [start, Math.min(n, start + max)];
}

// Load (or reload) the dish's history and outages for the window around `step`.
async function loadDishWindow(id, step) {
  const [start, end] = historyWindow(step);
  const [history, outages] = await Promise.all([
    api(`dishes/${encodeURIComponent(id)}/history`, { start_step: start, end_step: end, baseline: app.run.baseline ? "true" : null }),
    api(`dishes/${encodeURIComponent(id)}/outages`, { start_step: start, end_step: end }),
  ]);
  if (app.dish !== id) return;  // another dish was chosen meanwhile
  app.history = history;
  app.outages = outages;
  drawOutages(outages);
  drawServing(history);
  drawThroughput(history);
  const whole = history.start_step === 0 && history.end_step === app.run.steps;
  const last = history.end_step - 1;
  const iso = (ts) => isoOfSeconds(ts).replace(".000Z", "Z");
  const span = history.t_s.length ? ` (${iso(history.t_s[0])} to ${iso(history.t_s[history.t_s.length - 1])})` : "";
  $("dish-window").textContent = whole
    ? `History: the whole run (steps 0 - ${last}).`
    : `History loaded: steps ${history.start_step} - ${last} of 0 - ${app.run.steps - 1}${span}; ` +
      "moving the slider outside it loads the window around the new step.";
  $("dish-window").dataset.start = String(history.start_step);
  $("dish-window").dataset.end = String(history.end_step);
}

function ensureOption(id) {
  const select = $("dish-select");
  if (![...select.options].some((o) => o.value === id)) {
    const opt = document.createElement("option");
    opt.value = id;
    opt.textContent = id;
    select.appendChild(opt);
  }
  select.value = id;
}

async function selectDish(id) {
  if (!id) return;
  const before = app.dish;
  app.dish = id;
  try {
    // The dish's answers first: an unknown name (?dish=nosuch) adds no option and opens no panel.
    const [, sky] = await Promise.all([
      loadDishWindow(id, app.step),
      api(`dishes/${encodeURIComponent(id)}/obstruction_map`),
    ]);
    if (app.dish !== id) return;  // another dish was chosen meanwhile
    ensureOption(id);
    $("dish").hidden = false;
    $("dish-title").textContent = `Dish ${id}`;
    app.sky = sky;
    await updateDishAt(app.step);
    if (app.snapshot) await Plotly.react($("globe"), globeTraces(app.snapshot), globeLayout(app.snapshot), PLOT_CONFIG);
    $("dish").dataset.dish = id;
    $("error").hidden = true;  // an earlier error (a dish not found) is over once a dish is shown
  } catch (err) {
    if (app.dish === id && $("dish-select").value !== id) {  // not opened: the dish shown before stays
      app.dish = before;
      $("dish-select").value = before || "";
    }
    showError(err);
  }
}

async function updateDishAt(step) {
  const id = app.dish;
  const h = app.history;
  if (h && h.id === id && (step < h.start_step || step >= h.end_step)) {
    await loadDishWindow(id, step);  // the slider left the loaded window: load the one around it
  }
  app.status = await api(`dishes/${encodeURIComponent(id)}/status`, { step });
  drawStatus(app.status);
  drawLatency(app.history, step);
  drawSky(app.sky, app.status);
}

// Two rates (bit/s) as "down / up Mbps" ("-" for a missing one).
const mbpsPair = (down, up) => `${fmt(down === null ? null : down / 1e6, 1)} / ${fmt(up === null ? null : up / 1e6, 1)} Mbps`;

function drawStatus(s) {
  const wedges = s.wedges_fraction_obstructed
    ? s.wedges_fraction_obstructed.map((w) => (w === null ? "-" : fixed(100 * w, 0))).join(" ") + " %"
    : "- (no visibility table)";
  const connected = s.state === "CONNECTED";
  // The dish never online over the whole run: why, in one line (as `leonet dish` prints it).
  const never = $("never-online");
  never.textContent = s.never_online || "";
  never.hidden = !s.never_online;
  // The speed test (what the dish could get now, as the Starlink app's speed test) and what the
  // dish's own traffic carries now (its throughput): two different numbers, both from the run.
  const speedtest = s.speedtest_down_bps === null && s.speedtest_up_bps === null
    ? '<span class="muted">not in this run (needs capacity)</span>'
    : connected ? mbpsPair(s.speedtest_down_bps, s.speedtest_up_bps) : '- <span class="muted">(not connected)</span>';
  const carrying = s.downlink_throughput_bps === null && s.uplink_throughput_bps === null
    ? '<span class="muted">not modelled yet</span>'
    : connected ? mbpsPair(s.downlink_throughput_bps, s.uplink_throughput_bps) : '- <span class="muted">(not connected)</span>';
  const carryingTitle = "downlink_throughput_bps / uplink_throughput_bps: what the dish's own traffic carries now";
  // Uptime counts from the run's start when the dish was connected from it: the run knows nothing earlier.
  const sinceStart = connected && s.connected_since === app.run.start;
  const uptime = !connected ? fmt(s.uptime_s, 0, " s")
    : sinceStart ? `${fmt(s.uptime_s, 0, " s")} <span class="muted">(connected since the run's start)</span>` : fmt(s.uptime_s, 0, " s");
  const pop = s.pop ? esc(s.pop) + (s.pop_city ? ` (${esc(s.pop_city)})` : "") : "-";
  const behind = s.satellites_behind_mask === null
    ? (s.satellites_in_view !== null && s.satellites_clear !== null ? `${s.satellites_in_view - s.satellites_clear}` : "-")
    : String(s.satellites_behind_mask.length);
  const rows = [
    ["state", stateBadge(s.state, s.leonet_state)],
    ["t", `${esc(s.t)} (step ${s.step})`],
    ["pop_ping_latency_ms", fmt(s.pop_ping_latency_ms, 1, " ms")],
    ["pop_ping_drop_rate", dropText(s.pop_ping_drop_rate)],
    ["speed test down / up", speedtest],
    ["now carrying (throughput)", carrying],
    ["fraction_obstructed", s.fraction_obstructed === null ? "-" : `${fixed(100 * s.fraction_obstructed, 1)} %`],
    ["wedges_fraction_obstructed", wedges],
    ["currently_obstructed", String(s.currently_obstructed)],
    ["direction_azimuth / _elevation", `${fmt(s.direction_azimuth)}° / ${fmt(s.direction_elevation)}°`],
    ["uptime_s", uptime],
    ["serving_sat", s.serving_sat === null ? "-" : `${s.serving_sat} (${esc(s.serving_sat_name)})`],
  ];
  if (s.blocked_sat) {
    const b = s.blocked_sat;
    const which = b.was_serving ? "its slot's satellite, now behind the mask" : "the highest in view, behind the mask";
    rows.push(["blocked here", `<span title="${esc(b.why)}">${b.sat} (${esc(b.name)}) at ${fmt(b.azimuth_deg)}° / ${fmt(b.elevation_deg)}° ` +
      `<span class="muted">(${which})</span></span>`]);
  }
  rows.push(
    ["gateway / pop", `${esc(s.gateway || "-")} / ${pop}`],
    ["isl_hops / hops", `${s.isl_hops ?? "-"} / ${s.hops ?? "-"}`],
    ["in view / clear / behind mask", `${s.satellites_in_view ?? "-"} / ${s.satellites_clear ?? "-"} / ${behind}`],
    ["alerts", s.alerts.length ? esc(s.alerts.join(", ")) : "none"],
  );
  $("status").innerHTML = rows.map(([k, v]) =>
    `<div class="k"${k === "now carrying (throughput)" ? ` title="${esc(carryingTitle)}"` : ""}>${k}</div><div class="v">${v}</div>`).join("");
}

// A sample window's steps stand for more time than lies between them (time.windows[].sample): the
// time after the window was not simulated, so the line breaks there (a null point) instead of
// joining the window to the next one.
function withGaps(h, ys) {
  if (!h.duration_s) return { x: h.t_s.map(isoOfSeconds), y: ys };
  const x = [], y = [];
  for (let i = 0; i < h.t_s.length; i++) {
    x.push(isoOfSeconds(h.t_s[i])); y.push(ys[i]);
    if (i + 1 < h.t_s.length && h.t_s[i + 1] - h.t_s[i] > h.duration_s[i] + 1e-6) {
      x.push(isoOfSeconds((h.t_s[i] + h.t_s[i + 1]) / 2)); y.push(null);
    }
  }
  return { x, y };
}

// Slot boundaries are drawn as dotted lines up to this many in the loaded window; more would be
// a grey wash that costs a redraw each (a month-long run's window holds over a thousand).
const MAX_SLOT_LINES = 200;

function drawLatency(h, step) {
  const box = $("latency");
  const k = h.steps.indexOf(step);
  const now = isoOfSeconds(k >= 0 ? h.t_s[k] : secondsOf(step));
  // The same history drawn already: only the 'now' line moves (the last shape), no full redraw.
  if (box.dataset.drawn && app.latencyDrawn === h && box.layout && box.layout.shapes) {
    const last = box.layout.shapes.length - 1;
    Plotly.relayout(box, { [`shapes[${last}].x0`]: now, [`shapes[${last}].x1`]: now });
    return;
  }
  const slots = h.slot_boundaries_s.length <= MAX_SLOT_LINES ? h.slot_boundaries_s : [];
  const shapes = slots.map((ts) => ({
    type: "line", xref: "x", yref: "paper", x0: isoOfSeconds(ts), x1: isoOfSeconds(ts), y0: 0, y1: 1,
    line: { width: 0.6, dash: "dot", color: "#556" },
  }));
  $("slot-lines-note").hidden = slots.length === h.slot_boundaries_s.length;
  // outages: red bands, only at steps in an outage state, one band over consecutive outage steps.
  // pop_ping_drop_rate is a share of pings lost (reconfigurations lose a few while connected): its
  // own thin series below, not a band.
  let band = null;
  for (let i = 0; i < h.leonet_state.length; i++) {
    if (!isOutage(h.leonet_state[i])) { band = null; continue; }
    let dur = h.duration_s ? h.duration_s[i] : h.step_s;  // a windowed run's steps are uneven
    if (i + 1 < h.t_s.length) dur = Math.min(dur, h.t_s[i + 1] - h.t_s[i]);  // a sample step: up to the next
    if (band && Math.abs(band.end - h.t_s[i]) < 1e-6) {
      band.end = h.t_s[i] + dur;  // goes on from the step before: the same band, longer
      band.shape.x1 = isoOfSeconds(band.end);
      continue;
    }
    band = { end: h.t_s[i] + dur, shape: { type: "rect", xref: "x", yref: "paper", x0: isoOfSeconds(h.t_s[i]),
      x1: isoOfSeconds(h.t_s[i] + dur), y0: 0, y1: 1, line: { width: 0 }, fillcolor: "rgba(231,76,60,0.35)" } };
    shapes.push(band.shape);
  }
  shapes.push({ type: "line", xref: "x", yref: "paper", x0: now, x1: now, y0: 0, y1: 1, line: { width: 1.5, color: "#fff" } });
  const traces = [{
    type: "scatter", mode: "lines", ...withGaps(h, h.pop_ping_latency_ms), name: h.baseline ? "scenario" : "pop_ping_latency_ms",
    line: { color: "#7fb3ff", width: 1.5 }, connectgaps: false,
  }];
  if (h.baseline) {
    // The same dish and steps in the baseline run (the scenario without its events).
    traces.push({
      type: "scatter", mode: "lines", ...withGaps(h, h.baseline.pop_ping_latency_ms), name: "baseline (no events)",
      line: { color: "#d0d0d0", width: 1.2, dash: "dash" }, connectgaps: false,
    });
  }
  // Pings lost while in service (the outages are the red bands), in %, on the right axis.
  const drop = h.pop_ping_drop_rate.map((v, i) => (isOutage(h.leonet_state[i]) || v === null ? null : 100 * v));
  const dropping = drop.some((v) => v > 0);
  if (dropping) {
    traces.push({
      type: "scatter", mode: "lines", ...withGaps(h, drop), name: "pop_ping_drop_rate (%)", yaxis: "y2",
      line: { color: "rgba(255,170,60,0.85)", width: 1 }, connectgaps: false,
      hovertemplate: "%{y:.1f} % of pings lost<extra></extra>",
    });
  }
  $("latency-baseline-note").hidden = !h.baseline;
  $("latency-drop-note").hidden = !dropping;
  const legend = Boolean(h.baseline) || dropping;
  app.latencyDrawn = h;
  box.dataset.drawn = "1";
  Plotly.react(box, traces, {
    ...DARK, margin: { l: 44, r: dropping ? 40 : 8, t: legend ? 24 : 6, b: 32 }, shapes, showlegend: legend,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10 } },
    xaxis: { gridcolor: "#273042" }, yaxis: { title: { text: "ms" }, gridcolor: "#273042", rangemode: "tozero" },
    yaxis2: { overlaying: "y", side: "right", range: [0, 100], showgrid: false, ticksuffix: " %",
              tickmode: "array", tickvals: [0, 50, 100],
              tickfont: { size: 9, color: "rgba(255,170,60,0.85)" }, visible: dropping },
  }, PLOT_CONFIG);
}

function drawSky(sky, status) {
  const traces = [];
  const r = (el) => (el === null ? null : 90 - el);
  // wedges: shaded by the fraction obstructed
  if (sky.wedges_fraction_obstructed) {
    traces.push({
      type: "barpolar", name: "wedges_fraction_obstructed", theta: [...Array(12).keys()].map((k) => 15 + 30 * k),
      r: Array(12).fill(90), width: Array(12).fill(30),
      marker: { color: sky.wedges_fraction_obstructed.map((w) => `rgba(231,76,60,${w === null ? 0 : 0.05 + 0.45 * w})`), line: { width: 0 } },
      text: sky.wedges_fraction_obstructed.map((w, k) => `wedge ${k}: ${w === null ? "no data" : fixed(100 * w, 1) + " % obstructed"}`),
      hoverinfo: "text",
    });
  }
  if (sky.horizon_mask_deg) {
    const az = [...Array(361).keys()];
    const mask = az.map((a) => sky.horizon_mask_deg[a % 360]);
    traces.push({
      type: "scatterpolar", mode: "lines", name: "horizon mask", fill: "toself", fillcolor: "rgba(140,110,80,0.55)",
      theta: az.concat(az.slice().reverse()), r: az.map(() => 90).concat(mask.slice().reverse().map(r)),
      line: { color: "rgba(200,160,110,0.9)", width: 1 }, hoverinfo: "skip",
    });
  }
  if (sky.min_elevation_deg !== null) {
    const az = [...Array(361).keys()];
    traces.push({
      type: "scatterpolar", mode: "lines", name: `min elevation ${sky.min_elevation_deg}°`, theta: az,
      r: az.map(() => 90 - sky.min_elevation_deg), line: { color: "#8a94a6", dash: "dash", width: 1 }, hoverinfo: "skip",
    });
  }
  // Points of the tracks over the run: served (green), and in view but behind the mask (the
  // OBSTRUCTED colour, open circles; a dish is never served behind its mask: the engine does not
  // serve through an obstruction, so a satellite lost to one leaves serving_sat empty).
  const served = { theta: [], r: [], text: [] }, hidden = { theta: [], r: [], text: [] };
  sky.tracks.forEach((t, k) => {
    // A track breaks (a null point) where the satellite left view or the points are too far apart
    // in time to be one pass (t.breaks): no chord across the sky between two passes.
    const breaks = new Set(t.breaks || []);
    const theta = [], rr = [], text = [];
    t.t_s.forEach((ts, i) => {
      if (breaks.has(i)) { theta.push(null); rr.push(null); text.push(null); }
      theta.push(t.azimuth_deg[i]); rr.push(r(t.elevation_deg[i])); text.push(`${t.name} at ${isoOfSeconds(ts)}`);
      const into = t.serving[i] ? served : t.obstructed[i] ? hidden : null;
      if (into) { into.theta.push(t.azimuth_deg[i]); into.r.push(r(t.elevation_deg[i])); into.text.push(`${t.name} at ${isoOfSeconds(ts)}${t.serving[i] ? ": serving" : ": behind the mask"}`); }
    });
    const colour = t.used ? SHELL_COLOURS[(k % 8) + 1] : "rgba(160,170,190,0.45)";
    traces.push({
      type: "scatterpolar", mode: "lines+markers", name: t.name, showlegend: false, theta, r: rr, connectgaps: false,
      line: { width: t.used ? 1.2 : 0.6, color: colour, dash: t.used ? "solid" : "dot" },
      marker: { size: 2, color: colour },  // a pass seen at one point only is still drawn
      text, hoverinfo: "text",
    });
  });
  if (served.theta.length) {
    traces.push({
      type: "scatterpolar", mode: "markers", name: "served", theta: served.theta, r: served.r, text: served.text,
      hoverinfo: "text", marker: { size: 4, color: STATE_COLOURS.CONNECTED },
    });
  }
  if (hidden.theta.length) {
    traces.push({
      type: "scatterpolar", mode: "markers", name: "behind the mask (over the run)", theta: hidden.theta, r: hidden.r,
      text: hidden.text, hoverinfo: "text",
      marker: { size: 4, color: "rgba(0,0,0,0)", line: { width: 0.8, color: STATE_COLOURS.OBSTRUCTED } }, opacity: 0.45,
    });
  }
  // Now: the satellites in view behind the mask, and on an OBSTRUCTED step the one it is blocked from.
  const now = status && status.satellites_behind_mask;
  if (now && now.length) {
    traces.push({
      type: "scatterpolar", mode: "markers", name: `behind the mask now (${now.length})`,
      theta: now.map((p) => p.azimuth_deg), r: now.map((p) => r(p.elevation_deg)),
      text: now.map((p) => `${p.name}: in view, behind the mask`), hoverinfo: "text",
      marker: { size: 8, symbol: "circle-open", color: STATE_COLOURS.OBSTRUCTED, line: { width: 2 } },
    });
  }
  if (status && status.direction_azimuth !== null) {
    traces.push({
      type: "scatterpolar", mode: "markers", name: "serving now", theta: [status.direction_azimuth],
      r: [r(status.direction_elevation)], marker: { size: 14, symbol: "star", color: "#fff", line: { color: "#000", width: 1 } },
    });
  }
  if (status && status.blocked_sat) {
    const b = status.blocked_sat;
    traces.push({
      type: "scatterpolar", mode: "markers", name: `blocked here: ${b.name}`, theta: [b.azimuth_deg], r: [r(b.elevation_deg)],
      text: [`${b.name}: ${b.why}`], hoverinfo: "text",
      marker: { size: 15, symbol: "star", color: STATE_COLOURS.OBSTRUCTED, line: { color: "#000", width: 1 } },
    });
  }
  // A run that does not store the satellites behind the mask says so, rather than an empty sky.
  const note = $("sky-note");
  note.textContent = sky.behind_mask_stored === false ? sky.behind_mask_note : "";
  note.hidden = sky.behind_mask_stored !== false;
  Plotly.react($("skyplot"), traces, {
    ...DARK, margin: { l: 30, r: 30, t: 20, b: 20 }, showlegend: true,
    legend: { orientation: "h", y: -0.05, font: { size: 10 } },
    polar: {
      bgcolor: "#0d1b2e",
      angularaxis: { rotation: 90, direction: "clockwise", tickvals: [0, 90, 180, 270], ticktext: ["N", "E", "S", "W"], gridcolor: "#273042" },
      radialaxis: { range: [0, 90], tickvals: [0, 30, 60, 90], ticktext: ["90°", "60°", "30°", "0°"], gridcolor: "#273042", angle: 90 },
    },
  }, PLOT_CONFIG);
}

// A duration in units a reader takes in at a glance: "45 s", "900 s", "1.5 h", "30 d" (thousands
// separated: "1,234 d").
function durationText(seconds) {
  const one = (v) => num(Number(fixed(v, 1)));  // at most one decimal, none when whole
  if (seconds < 3600) return `${num(Number(fixed(seconds, 0)))} s`;
  if (seconds < 2 * 86400) return `${one(seconds / 3600)} h`;
  return `${one(seconds / 86400)} d`;
}

// An outage's duration: the time it stands for. On a windowed or sampled calendar a step may
// stand for more (or less) time than lies between it and the next step (a 15 s sample standing
// for 900 s): then the steps are counted and the time they stand for said as such.
function outageDuration(x) {
  const wall = (Date.parse(x.end) - Date.parse(x.start)) / 1000;
  const n = x.end_step - x.start_step;
  if (!Number.isFinite(wall) || Math.abs(wall - x.duration_s) <= 0.5) return durationText(x.duration_s);
  return `${num(n)} step${n === 1 ? "" : "s"} (stands for ${durationText(x.duration_s)})`;
}

function drawOutages(o) {
  const box = $("outages");
  if (!o.outages.length) {
    box.innerHTML = '<p class="muted small">No outages in this window.</p>';
    return;
  }
  const totals = Object.entries(o.seconds_by_cause).map(([c, s]) => `${stateBadge(c)} ${durationText(s)}`).join(" &nbsp; ");
  const rows = o.outages.map((x) =>
    `<tr><td>${stateBadge(x.cause, x.leonet_state)}</td><td class="mono">${esc(x.start)}</td>` +
    `<td>${outageDuration(x)}${x.ongoing ? " (ongoing)" : ""}</td></tr>`).join("");
  box.innerHTML = `<p class="small">${o.total} outage(s): ${totals}${o.truncated ? " (list truncated)" : ""}</p>` +
    `<table><thead><tr><th>cause</th><th>start (UTC)</th><th>duration</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// A note in a chart's box instead of a chart: the plot purged first (clearing a plot's box
// without Plotly.purge leaves plotly's state on it, and the next Plotly.react draws nothing).
function chartNote(box, html) {
  Plotly.purge(box);
  box.innerHTML = html;
  box.classList.remove("chart");
}

function drawThroughput(h) {
  const box = $("throughput");
  const none = (a) => a === null || a === undefined;
  if (none(h.downlink_throughput_bps) && none(h.uplink_throughput_bps) && none(h.speedtest_down_bps) && none(h.speedtest_up_bps)) {
    chartNote(box, '<p class="muted small">Not modelled in this run: throughput and the speed test need a run with capacity ' +
      "(scenario <code>capacity.enabled: true</code>). No numbers are made up.</p>");
    return;
  }
  if (h.leonet_state.every(isOutage)) {
    // Never online here: nothing to draw (an empty grid would read as a chart of zeros).
    const whole = h.start_step === 0 && h.end_step === app.run.steps;
    chartNote(box, `<p class="muted small">The dish had no service ${whole ? "in this run" : "in the loaded window"} ` +
      "(never online): no speed test or throughput to draw.</p>");
    return;
  }
  if (!box.classList.contains("chart")) {  // a note was there: a fresh box for the chart
    box.innerHTML = "";
    box.classList.add("chart");
  }
  // Mbps; none where the dish is not connected (the red bands of the latency chart: no service).
  const mbps = (values) => values.map((v, i) => (v === null || isOutage(h.leonet_state[i]) ? null : v / 1e6));
  const traces = [];
  const line = (values, name, colour, dash) => {
    if (!none(values)) traces.push({ type: "scatter", mode: "lines", ...withGaps(h, mbps(values)), name, line: { color: colour, dash, width: dash === "solid" ? 1.5 : 1.2 }, connectgaps: false });
  };
  line(h.speedtest_down_bps, "speed test down", "#58d68d", "dash");
  line(h.speedtest_up_bps, "speed test up", "#7fb3ff", "dash");
  line(h.downlink_throughput_bps, "now carrying down", "#58d68d", "solid");
  line(h.uplink_throughput_bps, "now carrying up", "#7fb3ff", "solid");
  Plotly.react(box, traces, {
    ...DARK, margin: { l: 44, r: 8, t: 24, b: 32 }, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10 } },
    xaxis: { gridcolor: "#273042" }, yaxis: { title: { text: "Mbps" }, gridcolor: "#273042", rangemode: "tozero" },
  }, PLOT_CONFIG);
}

function drawServing(h) {
  const x = h.t_s.map(isoOfSeconds);
  Plotly.react($("serving"), [{
    type: "scatter", mode: "markers", x, y: h.serving_sat_name, marker: { size: 3, color: "#ffd27f" },
    hovertemplate: "%{y}<br>%{x}<extra></extra>",
  }], {
    ...DARK, margin: { l: 110, r: 8, t: 6, b: 28 }, showlegend: false,
    xaxis: { gridcolor: "#273042" }, yaxis: { type: "category", gridcolor: "#273042", tickfont: { size: 9 } },
  }, PLOT_CONFIG);
}

// ---- station pairs (a station-pair run's pair_steps) -----------------------------------------------

async function setupPairs() {
  if (!app.run.tables.includes("pair_steps")) return;
  $("pairs-box").hidden = false;
  const list = await api("pairs", { limit: app.run.limits.max_list, order: "rtt_p50_desc" });
  const select = $("pair-select");
  for (const p of list.pairs) {
    const opt = document.createElement("option");
    opt.value = JSON.stringify([p.src, p.dst]);
    opt.textContent = `${p.src} \u2192 ${p.dst} (p50 ${fmt(p.rtt_p50_ms)} ms)`;
    select.appendChild(opt);
  }
  if (list.total > list.pairs.length) {
    const opt = document.createElement("option");
    opt.disabled = true;
    opt.textContent = `... ${list.total - list.pairs.length} more (highest median RTT first)`;
    select.appendChild(opt);
  }
  select.addEventListener("change", () => selectPair(...JSON.parse(select.value)));
  if (list.pairs.length) await selectPair(list.pairs[0].src, list.pairs[0].dst);
}

async function selectPair(src, dst) {
  app.pair = { src, dst };
  $("pair-select").value = JSON.stringify([src, dst]);
  try {
    const n = app.run.steps, max = app.run.limits.max_history_steps;
    const start = n <= max ? 0 : Math.max(0, Math.min(app.step - Math.floor(max / 2), n - max));
    const h = await api("pairs/history", { src, dst, start_step: start, end_step: Math.min(n, start + max) });
    app.pairHistory = h;
    $("pair-info").textContent = `${src} \u2192 ${dst}: route at ${fixed(100 * (h.availability || 0), 1)} % of steps; ` +
      `RTT p50 ${fmt(h.rtt_p50_ms)} ms, p95 ${fmt(h.rtt_p95_ms)} ms; ${h.path_changed.filter((c) => c).length} path changes`;
    Plotly.react($("pair-rtt"), [{
      type: "scatter", mode: "lines", x: h.t_s.map(isoOfSeconds), y: h.rtt_ms, name: "RTT (ms)",
      line: { width: 1.5, color: "#7CFC00" }, connectgaps: false,
    }], {
      ...DARK, margin: { l: 44, r: 8, t: 6, b: 28 }, showlegend: false,
      xaxis: { gridcolor: "#273042" }, yaxis: { title: "RTT (ms)", gridcolor: "#273042" },
    }, PLOT_CONFIG);
    await updatePairRoutes(app.step);
    await drawGlobe(app.step);
  } catch (err) {
    showError(err);
  }
}

async function updatePairRoutes(step) {
  const r = await api("pairs/routes", { step, src: app.pair.src, dst: app.pair.dst, limit: 1 });
  app.pairRoutes = r.routes;
}

function pairRouteTraces(snap, routes) {
  return routes.map((r) => ({
    type: "scattergeo", mode: "lines+markers", name: `route ${r.src} \u2192 ${r.dst} (${fmt(r.rtt_ms)} ms)`,
    lon: r.lon_deg, lat: r.lat_deg, hoverinfo: "name",
    line: { width: 2.5, color: "#7CFC00" }, marker: { size: 4, color: "#7CFC00" },
  }));
}

// ---- regions ----------------------------------------------------------------------------------

async function drawRegions() {
  // Regions are dish groups: a run without dishes (station pairs only) has none to show.
  if (!app.run.network || !app.run.sizes.dish_sites) { $("regions-box").hidden = true; return; }
  const data = await api("regions");
  if (!data.regions.length) { $("regions-box").hidden = true; return; }
  $("regions-box").hidden = false;
  const pct = (v) => (v === null ? "-" : `${fixed(100 * v, 1)} %`);
  // Lost time in dish-time (each site's step weighs its dishes x the time the step stands for), as
  // `leonet summary` prints it, never a count of site-steps.
  // `leonet summary`'s own text ("NO_PATH 100 dish-min, ..."), each state in the page's words.
  const lost = (g) => (g.outage_causes !== undefined
    ? g.outage_causes.split(", ").map((part) => {
      const gap = part.indexOf(" ");
      return gap > 0 ? stateLabel(part.slice(0, gap)) + part.slice(gap) : part;
    }).join(", ")
    : Object.entries(g.lost_s_by_leonet_state || {}).map(([c, v]) => `${stateLabel(c)} ${dishTime(v)}`).join(", ")) || "-";
  // The speed test's median (as `leonet summary` and `leonet dish` print it), with capacity only.
  const speed = data.regions.some((g) => g.speedtest_p50_mbps !== null && g.speedtest_p50_mbps !== undefined);
  const rows = data.regions.map((g) =>
    `<tr><td>${esc(g.group)}</td><td>${num(g.dishes)}</td><td>${pct(g.availability)}</td><td>${fmt(g.rtt_p50_ms)}</td>` +
    `<td>${fmt(g.rtt_p95_ms)}</td>${speed ? `<td>${fmt(g.speedtest_p50_mbps, 0)}</td>` : ""}<td>${esc(lost(g))}</td></tr>`).join("");
  $("regions").innerHTML = `<table><thead><tr><th>region</th><th>dishes</th><th>availability</th><th>RTT p50 (ms)</th>` +
    `<th>RTT p95 (ms)</th>${speed ? '<th title="the median of the speed test over the steps the dishes were online">speed test p50 (Mbps, while online)</th>' : ""}<th>time lost (in dish-time)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// ---- scenario vs baseline -------------------------------------------------------------------------

function dishTime(seconds) {
  // Dish-time lost, in units a reader takes in at a glance (as `leonet run --baseline` prints it).
  const whole = (v) => num(Number(fixed(v, 0)));  // "4,208", as num() prints counts
  if (seconds < 600) return `${whole(seconds)} dish-s`;
  if (seconds < 36000) return `${whole(seconds / 60)} dish-min`;
  return `${whole(seconds / 3600)} dish-h`;
}

async function drawCompare() {
  const box = $("compare-box");
  if (!app.run.baseline || !app.run.network) { box.hidden = true; return; }
  const c = await api("compare", { limit: app.run.limits.max_list });
  app.compare = c;
  box.hidden = false;
  const pct = (v) => (v === null ? "-" : `${fixed(100 * v, 1)} %`);
  // Instants as UTC dates (a year's run in seconds after its start reads as nothing a user knows).
  const when = (iso) => (iso === null ? "open" : iso.replace("T", " ").replace(/:00(\.0+)?Z$/, "Z").replace(/Z$/, " UTC"));
  const events = c.events.map((e) =>
    `<tr><td>${esc(e.name)}</td><td class="mono">${esc(e.type)}</td><td class="mono">${esc(when(e.start))} - ${esc(when(e.end))}</td>` +
    `<td class="muted">${esc(e.description || "")}</td></tr>`).join("");
  $("compare-events").innerHTML = `<p class="small">Scenario <b>${esc(c.scenario)}</b> against <b>${esc(c.baseline)}</b>; ` +
    `${c.events_total} event(s):</p><table class="events"><thead><tr><th>event</th><th>type</th><th>from - to</th>` +
    `<th>description</th></tr></thead><tbody>${events}</tbody></table>`;
  const groups = c.groups.map((g) => g.group);
  const percent = (key) => c.groups.map((g) => (g[key] === null ? null : 100 * g[key]));
  await Plotly.react($("compare-chart"), [
    { type: "bar", name: "scenario", x: groups, y: percent("availability"), marker: { color: "#e67e22" } },
    { type: "bar", name: "baseline (no events)", x: groups, y: percent("availability_baseline"), marker: { color: "#7f8c9d" } },
  ], {
    ...DARK, barmode: "group", margin: { l: 44, r: 8, t: 24, b: 40 },
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10 } },
    xaxis: { gridcolor: "#273042" }, yaxis: { title: { text: "availability %" }, range: [0, 100], gridcolor: "#273042" },
  }, PLOT_CONFIG);
  const rows = c.groups.map((g) => {
    const change = g.availability_change === null ? "" :
      ` <span class="${g.availability_change < 0 ? "lost" : "gain"}">(${g.availability_change >= 0 ? "+" : ""}${fixed(100 * g.availability_change, 1)} pp)</span>`;
    const lost = Object.entries(g.lost_s_by_leonet_state).filter(([, v]) => v > 0).map(([k, v]) => `${esc(stateLabel(k))} ${dishTime(v)}`).join(", ") || "-";
    const online = g.online_by
      ? ["satellite", "ground", "both", "none"].map((k) => (g.online_by[k] === null ? "-" : `${fixed(100 * g.online_by[k], 0)}%`)).join(" / ")
      : "-";
    const saved = g.saved_by_satellite_s ? ` <span class="muted">(saved ${dishTime(g.saved_by_satellite_s)})</span>` : "";
    const recovery = g.recovery.map((r) => `${esc(r.event)} ${r.recovered ? fmt(r.median_s, 0, " s") : "not within the run"}`).join(", ") || "-";
    const signed = (v) => (v === null ? "-" : `${v >= 0 ? "+" : ""}${fixed(v, 1)}`);
    const inflation = `${fmt(g.rtt_p50_ms)} vs ${fmt(g.rtt_p50_ms_baseline)} (${signed(g.rtt_p50_change_ms)}); ` +
      `<span class="muted">same dish+step ${signed(g.rtt_matched_mean_change_ms)}</span>`;
    return `<tr><td>${esc(g.group)}</td><td>${pct(g.availability)} vs ${pct(g.availability_baseline)}${change}</td>` +
      `<td>${inflation}</td><td>${lost}</td><td>${online}${saved}</td><td>${recovery}</td></tr>`;
  }).join("");
  $("compare").innerHTML = `<table class="compare"><thead><tr><th>region</th><th>availability (scenario vs baseline)</th>` +
    `<th>RTT p50 ms (scenario vs baseline, change; mean change at the same dish+step)</th><th>lost time by cause</th><th>online by sat / ground / both / none</th>` +
    `<th>recovery after event end</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// ---- search: any dish of the run by name (the list above holds the first max_list only) -------------

function setupSearch(total) {
  const input = $("dish-search"), results = $("dish-search-results"), note = $("dish-search-note");
  let timer = null, asked = 0;
  const search = async (open) => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) { results.replaceChildren(); note.textContent = ""; return; }
    try {
      const hits = await api("dishes", { q, limit: 50 });
      if (mine !== asked) return;  // a later keystroke's answer wins
      results.replaceChildren(...hits.dishes.map((d) => {
        const opt = document.createElement("option");
        opt.value = d.id;
        opt.label = d.group || "";
        return opt;
      }));
      note.textContent = hits.total ? `${num(hits.total)} found${hits.total > hits.dishes.length ? " (first 50 listed)" : ""}` : "none found";
      // A whole name (in any case), picked from the list or entered, or the one dish found: open it.
      const exact = hits.dishes.find((d) => d.id === q) || hits.dishes.find((d) => d.id.toLowerCase() === q.toLowerCase()) ||
        (hits.total === 1 ? hits.dishes[0] : null);
      if (open && exact && app.dish !== exact.id) await selectDish(exact.id);
    } catch (err) {
      showError(err);
    }
  };
  input.addEventListener("input", (ev) => {
    clearTimeout(timer);
    const picked = !ev.inputType || ev.inputType === "insertReplacementText";  // chosen from the list
    if (picked) search(true); else timer = setTimeout(() => search(false), 200);
  });
  input.addEventListener("change", () => { clearTimeout(timer); search(true); });
  input.placeholder = `any of the ${num(total)} dish sites, by name`;
}

// ---- start ------------------------------------------------------------------------------------------

// The dish list in the run's order, but a site's sold-out part ("<name> (sold out)": the dishes of a
// site admitted in part still waiting, a site of its own appended at the run's end) right after
// its site where both are listed.
const SOLD_OUT_SUFFIX = " (sold out)";

function dishListOrder(dishes) {
  const listed = new Set(dishes.map((d) => d.id));
  const parentOf = (d) => (d.id.endsWith(SOLD_OUT_SUFFIX) ? d.id.slice(0, -SOLD_OUT_SUFFIX.length) : null);
  const parts = new Map();
  for (const d of dishes) {
    const p = parentOf(d);
    if (p !== null && listed.has(p)) parts.set(p, d);
  }
  const out = [];
  for (const d of dishes) {
    const p = parentOf(d);
    if (p !== null && parts.get(p) === d) continue;  // placed after its site
    out.push(d);
    if (parts.has(d.id)) out.push(parts.get(d.id));
  }
  return out;
}

async function main() {
  try {
    const [run, vocabulary] = await Promise.all([api("run"), api("states")]);
    app.run = run;
    app.states = vocabulary;
    for (const st of vocabulary) {
      STATE_COLOURS[st.name] = st.colour;
      if (!(st.dish_word in STATE_COLOURS)) STATE_COLOURS[st.dish_word] = st.colour;
    }
    showWarnings(app.run.warnings);
    // The footer's link to the API's description carries the token as the page's own calls do.
    if (TOKEN) $("openapi-link").href = `/openapi.json?token=${encodeURIComponent(TOKEN)}`;
    $("slot-period").textContent = `${app.run.slot_period_s} s`;
    $("run-name").textContent = app.run.name;
    $("run-desc").textContent = app.run.description;
    document.title = `leonet - ${app.run.name}`;
    const slider = $("slider");
    slider.max = String(Math.max(0, app.run.steps - 1));
    slider.addEventListener("input", () => goTo(Number(slider.value)));
    $("play").addEventListener("click", togglePlay);
    const list = await api("dishes", { limit: app.run.limits.max_list });
    const select = $("dish-select");
    for (const d of dishListOrder(list.dishes)) {
      const opt = document.createElement("option");
      opt.value = d.id;
      // "cell010 - cell01" ("my-dish", not "my-dish - my-dish"): one pair of brackets at most,
      // the sold-out part's own ("cell010 (sold out) - cell01").
      opt.textContent = d.group && d.group !== d.id ? `${d.id} - ${d.group}` : d.id;
      select.appendChild(opt);
    }
    if (list.total > list.dishes.length) {
      const opt = document.createElement("option");
      opt.disabled = true;
      opt.textContent = `... ${num(list.total - list.dishes.length)} more: search them by name below (or click them on the globe)`;
      select.appendChild(opt);
    }
    select.addEventListener("change", () => selectDish(select.value));
    setupSearch(list.total);
    await goTo(0);
    await drawRegions();
    await drawCompare();
    await setupPairs();
    const wanted = PAGE_QUERY.get("dish");
    if (wanted) await selectDish(wanted);
    document.body.dataset.ready = "1";
  } catch (err) {
    showError(err);
  }
}

main();
