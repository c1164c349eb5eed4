"""When a CZML document samples its satellites' positions: every kept step, and between steps often
enough for Cesium's degree-5 interpolation to stay on the orbit, within a bound on the document's
size; a run too long for it is drawn in stretches (:func:`sample_plan`)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

#: Longest time (s) between two position samples of a satellite: degree-5 Lagrange interpolation
#: (Cesium's, as the document asks) over samples 300 s apart stays within about 40 m of a 550 km
#: circular orbit (measured against the circle: 60 s 0.0 m, 120 s 0.2 m, 300 s 42 m, 600 s 2.5 km).
SAMPLE_S = 300
#: Longest spacing (s) taken for a run too long for SAMPLE_S within MAX_SAMPLES (the same: no
#: coarser spacing is taken; a longer run is drawn in stretches).
MAX_SAMPLE_S = 300
#: Bound on the position samples of a document (kept satellites x sample instants; about 45 bytes
#: of JSON and 24 bytes of memory each): about 45 MB of CZML, what a browser loads in seconds.
MAX_SAMPLES = 1_000_000
#: Fewest samples of a stretch when a long run is drawn in stretches: degree 5 needs 6.
MIN_STRETCH_SAMPLES = 6
class SamplePlan:
    """The instants at which every kept satellite's position is written (see module doc).

    ``t_ns`` (T,) int64, increasing; ``piece`` (T,) the interval each belongs to (0, 1, ...: one
    piece unless the run is drawn in stretches); ``anchor_of`` (T,) the kept step each sample
    starts from (its index in the anchors), ``step_sample`` (T,) bool: the sample is that kept
    step's own instant; ``spacing_s``; ``cut``: None, or the words that say the run is drawn in
    stretches; ``words``: the sampling, for the document's name.
    """

    def __init__(self, t_ns, piece, anchor_of, step_sample, spacing_s: int, cut: str | None, words: str):
        self.t_ns, self.piece, self.anchor_of, self.step_sample = t_ns, piece, anchor_of, step_sample
        self.spacing_s, self.cut, self.words = spacing_s, cut, words


def sample_plan(anchors: np.ndarray, n_satellites: int, *, max_samples: int = MAX_SAMPLES,
                source: str | None = None, every_n_steps: int = 1) -> SamplePlan:
    """The sample instants for ``anchors`` (int64 ns, increasing: the kept steps' instants, then the
    run's end) and ``n_satellites`` kept satellites, at most ``max_samples`` in all (module doc).

    Raises InputError (naming ``source``) when not even :data:`MIN_STRETCH_SAMPLES` per kept step fit.
    """
    anchors = np.asarray(anchors, dtype=np.int64)
    per_sat = max(max_samples // max(n_satellites, 1), 1)
    gaps = np.diff(anchors)
    n_anchor = len(gaps)  # kept steps (the last anchor is the run's end)
    need = {}
    for h_s in range(SAMPLE_S, MAX_SAMPLE_S + 1, SAMPLE_S):
        # each kept step's stretch needs its own instant and one sample every h_s up to the next
        need[h_s] = np.maximum(-(-gaps // (h_s * 10**9)), 1)
        if need[h_s].sum() + 1 <= per_sat:
            return _plan(anchors, need[h_s], h_s, None, None)
    h_s = MAX_SAMPLE_S
    m = need[h_s]
    c = _stretch_samples(m, per_sat)
    fits = max(1, max_samples // int(m.sum() + 1))
    if c < MIN_STRETCH_SAMPLES:
        # the least a satellite needs: each sampled step, and 6 samples from each one far from the next
        least = int(np.minimum(m, MIN_STRETCH_SAMPLES).sum()) + 1
        every_fit = -(-every_n_steps * least // per_sat)
        raise InputError(
            f"a CZML of {n_satellites:,} satellites x {n_anchor:,} sampled steps needs at least {least:,} position "
            f"samples per satellite (each sampled step, and {MIN_STRETCH_SAMPLES} from each step more than "
            f"{MAX_SAMPLE_S} s before the next, for the interpolation to stay on the orbit), more than its bound of "
            f"{max_samples:,} samples allows; pass max_satellites (--max-satellites) {max(max_samples // least, 1):,} "
            f"or fewer, or every_n_steps (--every) {every_fit:,} or more", source=source)
    cut = (f"{n_satellites:,} satellites cannot be drawn throughout the run within {max_samples:,} position samples "
           f"(one every {MAX_SAMPLE_S} s at most, for the interpolation to stay on the orbit): each is drawn for "
           f"{_duration_words((c - 1) * h_s)} from each of the {n_anchor:,} sampled steps and hidden until the next; "
           f"--max-satellites {fits:,} draws them throughout, --every draws longer stretches of fewer steps")
    return _plan(anchors, m, h_s, c, cut)


def _stretch_samples(m: np.ndarray, per_sat: int) -> int:
    """The most samples ``c`` per stretch with sum(min(m, c)) + 1 <= per_sat (0: not even 1)."""
    lo, hi = 0, int(m.max(initial=0))
    while lo < hi:  # sum(min(m, c)) grows with c: bisect
        mid = (lo + hi + 1) // 2
        if int(np.minimum(m, mid).sum()) + 1 <= per_sat:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _plan(anchors: np.ndarray, m: np.ndarray, h_s: int, c: int | None, cut: str | None) -> SamplePlan:
    h = np.int64(h_s) * 10**9
    cut_mask = m > c if c is not None else np.zeros(len(m), dtype=bool)
    k = np.where(cut_mask, c if c is not None else 0, m).astype(np.int64)  # samples from each kept step
    total = int(k.sum())
    anchor_of = np.repeat(np.arange(len(m), dtype=np.int64), k)
    j = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(k) - k, k)  # sample number within the stretch
    t = anchors[:-1][anchor_of] + j * h
    # a cut stretch ends its piece: the next kept step starts another (no interpolation across the gap)
    piece_of_anchor = np.r_[0, np.cumsum(cut_mask)[:-1]].astype(np.int64) if len(m) else np.zeros(0, np.int64)
    piece = piece_of_anchor[anchor_of]
    step_sample = j == 0
    if len(m) == 0 or not cut_mask[-1]:  # the run's end closes the last stretch
        t = np.r_[t, anchors[-1]]
        piece = np.r_[piece, piece_of_anchor[-1] if len(m) else 0]
        anchor_of = np.r_[anchor_of, max(len(m) - 1, 0)]
        step_sample = np.r_[step_sample, False]
    if cut is None:
        words = f"at the sampled steps and every {h_s} s between them"
    else:
        words = f"in stretches of {_duration_words((c - 1) * h_s)} from each sampled step, every {h_s} s"
    return SamplePlan(t.astype(np.int64), piece, anchor_of, step_sample.astype(bool), h_s, cut, words)


def _duration_words(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 7200 else f"{seconds / 60:.0f} min"
