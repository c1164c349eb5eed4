"""The two searches built on the one bucket queue (:mod:`leonet.network.bucketqueue`) against
networkx (test-only oracle) on small random graphs drawn by hypothesis: the shortest paths from
each of many sources (:func:`leonet.network.dijkstra.shortest_paths`) and the tree of routes to
the nearest of many sources (:func:`leonet.network.routekernels.internet_tree`)."""

import networkx as nx
import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.network import dijkstra as dj
from leonet.network.graph import build_snapshot_graph
from leonet.network.routekernels import internet_tree

TOL_S = 1e-12


def nx_graph(matrix: sp.csr_matrix) -> nx.DiGraph:
    coo = matrix.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(matrix.shape[0]))
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    return G


def chain_to(pred: np.ndarray, v: int, none: int) -> list[int]:
    nodes = [v]
    while pred[nodes[-1]] != none:
        nodes.append(int(pred[nodes[-1]]))
        assert len(nodes) <= len(pred), "the predecessors have a cycle"
    return nodes


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 40), degree=st.integers(1, 5), whole=st.booleans(),
       n_sources=st.integers(1, 5))
def test_shortest_paths_against_networkx(seed, n, degree, whole, n_sources):
    """Distances as networkx's from each source; every predecessor is the smallest node of a
    tight edge (whole-number weights make ties); the predecessors lead back to the source."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), degree)
    cols = rng.integers(0, n, len(rows))
    keep = rows != cols
    w = (rng.integers(1, 4, keep.sum()) if whole else rng.uniform(1.0, 20.0, keep.sum())) * 1e-3
    m = sp.coo_matrix((w, (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    m.sum_duplicates()
    assert len(m.data) == 0 or m.data.max() / m.data.min() < dj.MAX_BUCKETS - 2  # the bucket queue's case
    sources = rng.integers(0, n, n_sources)
    dist, pred = dj.shortest_paths(m, sources)
    G = nx_graph(m)
    for k, s in enumerate(sources):
        want = nx.single_source_dijkstra_path_length(G, int(s), weight="weight")
        for v in range(n):
            if v not in want:
                assert dist[k, v] == np.inf and pred[k, v] == -1
                continue
            assert abs(dist[k, v] - want[v]) <= TOL_S
            if v == s:
                assert pred[k, v] == -1
                continue
            tight = [u for u in G.predecessors(v) if dist[k, u] + G[u][v]["weight"] == dist[k, v]]
            assert pred[k, v] == min(tight)
            assert chain_to(pred[k], v, -1)[-1] == s


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n_sats=st.integers(1, 40), n_gw=st.integers(1, 5), n_pops=st.integers(1, 4),
       multi=st.booleans())
def test_internet_tree_against_networkx(seed, n_sats, n_gw, n_pops, multi):
    """Distances to the nearest source as networkx's multi-source Dijkstra; each node's source is
    one at that distance, and its predecessors form a path of that length back to it."""
    rng = np.random.default_rng(seed)
    isl = np.unique(np.sort(rng.integers(0, n_sats, (int(rng.integers(0, 3 * n_sats + 1)), 2)), axis=1), axis=0)
    isl = isl[isl[:, 0] != isl[:, 1]]
    feed = np.unique(np.c_[rng.integers(0, n_gw, 2 * n_gw), rng.integers(0, n_sats, 2 * n_gw)], axis=0)
    bb = np.array([(a, b) for a in range(n_pops) for b in range(a + 1, n_pops) if rng.random() < 0.5]).reshape(-1, 2)
    graph = build_snapshot_graph(n_sats, n_gw, n_pops, isl, rng.uniform(2e5, 5e6, len(isl)), feed[:, 0], feed[:, 1],
                                 rng.uniform(5e5, 2e6, len(feed)), rng.integers(-1, n_pops, n_gw),
                                 rng.uniform(1e-4, 5e-3, n_gw), bb, rng.uniform(1e-3, 3e-2, len(bb)))
    sources = graph.pop_node(np.arange(n_pops) if multi else np.array([int(rng.integers(0, n_pops))]))
    got = internet_tree(graph.reversed_matrix, n_sats, sources)
    if got is None:
        assert len(isl) == 0  # no laser: the bucket phase has nothing to do, scipy searches
        return
    dist, pred, origin = got
    G = nx_graph(graph.reversed_matrix)
    want = nx.multi_source_dijkstra_path_length(G, {int(s) for s in sources}, weight="weight")
    by_source = {int(s): nx.single_source_dijkstra_path_length(G, int(s), weight="weight") for s in sources}
    for v in range(graph.n_nodes):
        if v not in want:
            assert dist[v] == np.inf and pred[v] == -9999 and origin[v] == -9999
            continue
        assert abs(dist[v] - want[v]) <= TOL_S
        assert int(origin[v]) in by_source and abs(by_source[int(origin[v])][v] - dist[v]) <= TOL_S
        nodes = chain_to(pred, v, -9999)
        assert nodes[-1] == origin[v]
        length = sum(G[b][a]["weight"] for a, b in zip(nodes[:-1], nodes[1:]))
        assert abs(length - dist[v]) <= TOL_S
