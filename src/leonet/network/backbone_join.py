"""Joining the parts of a PoP backbone that a mapped backbone leaves apart.

The 2023 community map's backbone knows its own 23 PoPs; a run on the 2026 PoP list (54) leaves
32 of them joined by no link, so a gateway whose nearest PoP is one of them carries only the
traffic of dishes homed there (Italy's gateways feed Milan, which the map does not know, and a
Frankfurt-homed dish in Italy cannot use them). Starlink's backbone reaches every PoP it runs (an
assumption: its routes between PoPs are not public), so ``network.backbone: community-2023-joined``
adds the shortest links that join every part to the rest: a minimum spanning tree over the parts
(connected components) with each part-to-part length the great-circle distance of its closest
pair of PoPs. Inside a part nothing is added; a run whose PoPs are all joined gets no link.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ground.geodesy import great_circle_distance_m

#: The most PoPs the join takes (it compares every pair: 2,000 PoPs, none joined, are 2 million
#: pairs, about 2 s; the 54 PoPs of the 2026 list take milliseconds).
MAX_JOINED_POPS = 2000


def backbone_components(backbone, n_pops: int) -> np.ndarray:
    """(P,) label of each PoP's connected component under the backbone's (B, 2) PoP pairs (a PoP
    no link joins is a component of its own)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    backbone = np.asarray(backbone, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(backbone)), (backbone[:, 0], backbone[:, 1])), shape=(n_pops, n_pops))
    return connected_components(graph, directed=False)[1]


def joining_links(lat_deg, lon_deg, pairs) -> np.ndarray:
    """(J, 2) PoP pairs (``i < j``, sorted) that join the parts of the backbone ``pairs`` into one.

    Parameters
    ----------
    lat_deg, lon_deg : (P,) PoP positions, degrees.
    pairs : (B, 2) PoP numbers (0..P-1) the backbone already joins.

    Returns
    -------
    (J, 2) int64 array, J = parts - 1: for each edge of the minimum spanning tree over the parts
    (lengths: the closest pair of PoPs between two parts, great circle), that closest pair (the
    lowest PoP numbers among equal lengths). Empty when the PoPs are already one part or fewer
    than two.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    lat = np.asarray(lat_deg, dtype=np.float64).ravel()
    lon = np.asarray(lon_deg, dtype=np.float64).ravel()
    n = len(lat)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()) or len(lon) != n:
        raise InputError("PoP positions must be finite, one latitude per longitude", location="network.backbone")
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise InputError(f"backbone pairs must number PoPs 0..{n - 1}", location="network.backbone")
    if n > MAX_JOINED_POPS:
        raise InputError(f"joins at most {MAX_JOINED_POPS:,} PoPs (every pair is compared), the scenario has {n:,}; "
                         "use network.backbone: community-2023 or none", location="network.backbone")
    part = backbone_components(pairs, n)
    n_parts = int(part.max()) + 1
    if n_parts == 1:
        return np.zeros((0, 2), dtype=np.int64)
    i, j = np.triu_indices(n, 1)
    across = part[i] != part[j]
    i, j = i[across], j[across]
    length_m = great_circle_distance_m(lat[i], lon[i], lat[j], lon[j])
    # the closest pair between each two parts (first in (length, i, j) order: ties go to low numbers)
    order = np.lexsort((j, i, length_m))
    a, b = np.minimum(part[i], part[j])[order], np.maximum(part[i], part[j])[order]
    first = np.unique(a * n_parts + b, return_index=True)[1]
    best = order[first]
    pa, pb = np.minimum(part[i[best]], part[j[best]]), np.maximum(part[i[best]], part[j[best]])
    # +1 m: a zero length (two PoPs at one place) would read as "no edge" to the spanning tree
    weights = coo_matrix((length_m[best] + 1.0, (pa, pb)), shape=(n_parts, n_parts)).toarray()
    tree = minimum_spanning_tree(weights).toarray()
    keep = (tree[pa, pb] != 0) | (tree[pb, pa] != 0)   # the tree's edges, in either orientation
    links = np.sort(np.stack([i[best][keep], j[best][keep]], axis=1), axis=1)
    return links[np.lexsort((links[:, 1], links[:, 0]))].astype(np.int64)
