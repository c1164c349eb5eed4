"""Dish kits as validated data (leonet.service.kits) and the terminal as a max-min link."""

import numpy as np
import pytest
import scipy.sparse as sp

from leonet.capacity.maxmin import max_min_fair
from leonet.errors import InputError
from leonet.service.kits import (DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ, get_kit, kit_caps_bps, load_kits, modcod_cap_bps,
                                 parse_kits)
from leonet.service.spec import ServiceSpec

HEADER = ("kit,description,max_down_mbps,max_up_mbps,aperture_m2,g_over_t_db_per_k,eirp_dbw,"
          "field_of_view_deg,min_elevation_deg,power_min_w,power_max_w\n")


def test_shipped_kits_match_the_published_limits():
    kits = load_kits()
    assert {"standard", "mini", "performance", "gen2_rectangular", "gen1_round"} <= set(kits)
    # REFERENCE.md per-dish limits: standard ~300 Mbps at best; performance "400+"; 1 GbE ~940.
    assert kits["standard"].max_down_mbps == pytest.approx(300, rel=0.2)
    assert 400 <= kits["performance"].max_down_mbps <= 940
    assert kits["mini"].max_down_mbps < kits["standard"].max_down_mbps < kits["performance"].max_down_mbps
    # The 2022 rectangular dish carries the link budget's defaults (RadioDefaults).
    from leonet.capacity.linkbudget import RADIO_DEFAULTS
    assert kits["gen2_rectangular"].g_over_t_db_per_k == RADIO_DEFAULTS.user_terminal_g_over_t_db_per_k
    assert kits["gen2_rectangular"].eirp_dbw == RADIO_DEFAULTS.user_terminal_eirp_dbw
    # Gain scaled with aperture: 10 log10 of the area ratio, within rounding.
    for k in kits.values():
        expected = 9.8 + 10 * np.log10(k.aperture_m2 / kits["gen2_rectangular"].aperture_m2)
        assert k.g_over_t_db_per_k == pytest.approx(expected, abs=0.06), k.name
        assert k.power_min_w <= k.power_max_w


def test_unknown_kit_names_the_field_and_suggests():
    with pytest.raises(InputError, match=r"service\.kit: unknown kit 'standrd'; did you mean 'standard'"):
        get_kit("standrd", location="service.kit")
    with pytest.raises(InputError, match="unknown kit 'xyz'"):
        kit_caps_bps(["standard", "xyz"])
    with pytest.raises(ValueError, match="did you mean 'mini'"):
        ServiceSpec(kit="minni")


def test_caps_per_dish():
    down, up = kit_caps_bps(["mini", "standard", "performance", "standard"])
    assert down.tolist() == [150e6, 300e6, 450e6, 300e6] and up.tolist() == [20e6, 40e6, 60e6, 40e6]


@pytest.mark.parametrize("row, where", [
    ("standard,x,abc,40,0.2,1,1,110,25,75,100", "line 2, max_down_mbps"),
    ("standard,x,300,40,0.2,1,1,110,25,100,75", "line 2, power_max_w"),
    ("standard,x,3000,40,0.2,1,1,110,25,75,100", "line 2, max_down_mbps"),
    ("Standard,x,300,40,0.2,1,1,110,25,75,100", "line 2, kit"),
    ("standard,x,300,40,0.2,1,1,110,95,75,100", "line 2, min_elevation_deg"),
])
def test_bad_kit_files_name_line_and_column(row, where):
    with pytest.raises(InputError, match=f"kits.csv: {where}"):
        parse_kits(HEADER + row + "\n", "kits.csv")


def test_missing_column_and_duplicate():
    with pytest.raises(InputError, match="missing column"):
        parse_kits("kit,description\nstandard,x\n", "kits.csv")
    row = "standard,x,300,40,0.2,1,1,110,25,75,100\n"
    with pytest.raises(InputError, match="line 3, kit: kit 'standard' appears twice"):
        parse_kits(HEADER + row + row, "kits.csv")


def with_terminal_links(routing, capacity_bps, flow_dish, dish_cap_bps):
    """The max-min problem with one terminal link per dish (column L + d), the textbook way to put
    the terminal in; the engine caps each dish's demand instead (leonet.service.kits)."""
    routing = sp.csr_matrix(routing)
    n_flows = routing.shape[0]
    terminal = sp.csr_matrix((np.ones(n_flows), (np.arange(n_flows), np.asarray(flow_dish))),
                             shape=(n_flows, len(dish_cap_bps)))
    return (sp.hstack([routing, terminal], format="csr"),
            np.concatenate([np.asarray(capacity_bps, float), np.asarray(dish_cap_bps, float)]))


def test_terminal_link_is_never_exceeded_and_equals_a_demand_cap():
    # Five dishes (one flow each) share a 1 Gbps beam; dishes have different kits.
    rng = np.random.default_rng(3)
    down, _ = kit_caps_bps(["mini", "standard", "performance", "standard", "mini"])
    routing = sp.csr_matrix(np.ones((5, 1)))
    for beam_bps in (0.2e9, 0.9e9, 5e9):
        demand = rng.choice([np.inf, 50e6, 400e6], 5)
        r2, c2 = with_terminal_links(routing, [beam_bps], np.arange(5), down)
        linked = max_min_fair(r2, c2, demand).rate_bps
        capped = max_min_fair(routing, [beam_bps], np.minimum(demand, down)).rate_bps
        assert (linked <= down * (1 + 1e-9)).all()
        np.testing.assert_allclose(linked, capped, rtol=1e-9)
    # A site of N dishes: its terminal link is N x the cap.
    r2, c2 = with_terminal_links(sp.csr_matrix(np.ones((1, 1))), [10e9], [0], [3 * 300e6])
    assert max_min_fair(r2, c2).rate_bps[0] == pytest.approx(900e6)


def test_the_cap_falls_with_the_modcod():
    """A kit reaches its cap at the top DVB-S2X MODCOD (the ladder's own top efficiency, ETSI EN
    302 307-2) and carries proportionally less at a lower one; no link keeps the nominal figure."""
    from leonet.capacity.modcod import FRONTIER_EFFICIENCY_BPS_PER_HZ, spectral_efficiency

    assert DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ == pytest.approx(FRONTIER_EFFICIENCY_BPS_PER_HZ.max())
    top = DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ
    eta = np.array([top, 7.0, top / 2, 0.0, np.nan])
    got = modcod_cap_bps(300e6, eta, top)
    assert got == pytest.approx([300e6, 300e6, 150e6, 300e6, 300e6])
    assert np.array_equal(modcod_cap_bps(np.full(5, 300e6), eta, None), np.full(5, 300e6))
    # a typical Starlink-like link (18.6 dB Es/N0, 3 dB margin) carries ~0.78 of the cap
    typical = spectral_efficiency(18.6)
    assert modcod_cap_bps(300e6, typical, top) == pytest.approx(300e6 * typical / top)
    assert 0.7 < typical / top < 0.85


def test_the_modcod_cap_is_a_switch():
    assert ServiceSpec().kit_cap_efficiency_bps_per_hz == pytest.approx(5.900855)
    assert ServiceSpec(kit_cap_efficiency_bps_per_hz=None).kit_cap_efficiency_bps_per_hz is None
    with pytest.raises(ValueError):
        ServiceSpec(kit_cap_efficiency_bps_per_hz=0)
