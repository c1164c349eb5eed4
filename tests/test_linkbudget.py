"""Link budget and MODCOD ladder (leonet.capacity.linkbudget, leonet.capacity.modcod).

Oracles: hand arithmetic for path loss and a full budget; the textbook form of the Friis loss;
the ITU-R Study Group 3 validation examples for ITU-R P.618-13 (slant-path rain and total
attenuation); the DVB-S2 / DVB-S2X tables as printed (ETSI EN 302 307-1 Table 13, EN 302 307-2
Table 20a), re-typed here independently of the module, and a brute-force search of the ladder.
"""

import dataclasses
import math

import numpy as np
import pytest

from leonet.capacity import atmosphere as atm
from leonet.capacity import linkbudget as lb
from leonet.capacity import modcod as mc
from leonet.errors import InputError

C_M_PER_S = 299_792_458.0


# ----------------------------------------------------------------------------- free-space loss

def test_fspl_550_km_11_7_ghz_by_hand():
    # 4 pi d f / c = 12.5663706 * 550e3 * 11.7e9 / 299792458
    #              = 8.0864595e16 / 2.99792458e8 = 2.6973525e8;  20 log10(2.6973525e8) = 168.6188 dB
    ratio = 4.0 * math.pi * 550e3 * 11.7e9 / C_M_PER_S
    assert ratio == pytest.approx(2.6973525e8, rel=1e-7)
    assert lb.free_space_path_loss_db(550e3, 11.7e9) == pytest.approx(168.6188, abs=1e-3)
    assert lb.free_space_path_loss_db(550e3, 11.7e9) == pytest.approx(20 * math.log10(ratio), abs=1e-9)


def test_fspl_matches_textbook_km_ghz_form():
    # Textbook form (e.g. Maral & Bousquet): 92.45 + 20 log10(d/km) + 20 log10(f/GHz).
    d_km = np.array([550.0, 1123.4, 2000.0])
    f_ghz = np.array([11.7, 14.25, 28.75])
    textbook = 92.45 + 20 * np.log10(d_km) + 20 * np.log10(f_ghz)
    np.testing.assert_allclose(lb.free_space_path_loss_db(d_km * 1e3, f_ghz * 1e9), textbook, atol=0.01)


def test_fspl_broadcasts_and_doubling_range_adds_6_db():
    out = lb.free_space_path_loss_db(np.array([[550e3], [1100e3]]), np.array([11.7e9, 14.25e9]))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out[1] - out[0], 20 * math.log10(2), atol=1e-12)


def test_fspl_nan_passes_bad_values_refused():
    assert np.isnan(lb.free_space_path_loss_db(np.nan, 11.7e9))
    with pytest.raises(InputError) as e:
        lb.free_space_path_loss_db(-1.0, 11.7e9)
    assert e.value.location == "range_m"
    with pytest.raises(InputError) as e:
        lb.free_space_path_loss_db(550e3, 0.0)
    assert e.value.location == "frequency_hz"
    with pytest.raises(InputError):
        lb.free_space_path_loss_db("far", 11.7e9)


# ----------------------------------------------------------------------------- SNR composition

def test_boltzmann_in_dbw():
    assert lb.BOLTZMANN_DBW_PER_K_HZ == pytest.approx(-228.5991, abs=1e-4)


def test_snr_hand_budget():
    # EIRP 33.8 dBW, G/T 9.8 dB/K, 550 km, 11.7 GHz, 250 MHz, 0.5 dB of extra losses:
    #   FSPL          168.6188 dB   (test above)
    #   C/N0 = 33.8 - 168.6188 - 0.5 + 9.8 + 228.5991 = 103.0803 dBHz
    #   10 log10(250e6) = 83.9794 dB
    #   SNR  = 103.0803 - 83.9794 = 19.1009 dB
    cn0 = lb.carrier_to_noise_density_dbhz(33.8, 9.8, 550e3, 11.7e9, 0.5)
    assert cn0 == pytest.approx(103.0803, abs=1e-3)
    snr = lb.link_snr_db(33.8, 9.8, 550e3, 11.7e9, 250e6, 0.5)
    assert snr == pytest.approx(19.1009, abs=1e-3)


def test_snr_vectorised_over_ranges_and_losses():
    ranges = np.array([550e3, 800e3, 1123e3])
    losses = np.array([0.0, 1.0, 2.0])
    snr = lb.link_snr_db(33.8, 9.8, ranges, 11.7e9, 250e6, losses)
    single = [float(lb.link_snr_db(33.8, 9.8, r, 11.7e9, 250e6, x)) for r, x in zip(ranges, losses, strict=True)]
    np.testing.assert_allclose(snr, single)
    with pytest.raises(InputError) as e:
        lb.link_snr_db(33.8, 9.8, 550e3, 11.7e9, -5.0)
    assert e.value.location == "bandwidth_hz"


def test_sinr_linear_sum_of_noise_and_interference():
    assert lb.sinr_db(15.0, -np.inf) == pytest.approx(15.0)
    # I = N: the noise floor doubles, 10 log10(2) = 3.0103 dB.
    assert lb.sinr_db(15.0, 0.0) == pytest.approx(15.0 - 3.0103, abs=1e-4)
    # I >> N: SINR tends to S/I = SNR - INR.
    assert lb.sinr_db(15.0, 40.0) == pytest.approx(15.0 - 40.0, abs=1e-3)
    out = lb.sinr_db(np.array([[10.0], [20.0]]), np.array([-np.inf, 0.0, 10.0]))
    assert out.shape == (2, 3)
    # By hand for SNR 10 dB, INR 10 dB: S/(N+I) = 10 / (1 + 10) -> 10 log10(10/11) = -0.4139 dB.
    assert out[0, 2] == pytest.approx(-0.4139, abs=1e-4)


# ----------------------------------------------------------------------------- defaults

def test_default_eirp_density_is_the_article_21_ceiling_at_550_km():
    # -140 dB(W/m^2/4kHz) + 10 log10(4 pi (550 km)^2) [125.80] + 10 log10(1 MHz / 4 kHz) [23.98]
    assert lb.eirp_density_for_pfd_dbw_per_mhz(-140.0, 550e3) == pytest.approx(9.78, abs=0.01)
    d = lb.RADIO_DEFAULTS
    assert d.satellite_eirp_density_dbw_per_mhz == pytest.approx(9.78, abs=0.05)
    assert d.satellite_eirp_dbw == pytest.approx(9.8 + 10 * math.log10(250), abs=1e-9)


def test_radio_defaults_override_and_validation():
    d = dataclasses.replace(lb.RADIO_DEFAULTS, user_terminal_g_over_t_db_per_k=12.8)
    gain = lb.user_downlink_snr_db(550e3, defaults=d) - lb.user_downlink_snr_db(550e3)
    assert gain == pytest.approx(3.0)
    with pytest.raises(InputError) as e:
        lb.RadioDefaults(availability_pct=100.0)
    assert e.value.location == "availability_pct"
    with pytest.raises(InputError):
        lb.RadioDefaults(user_downlink_bandwidth_hz=0.0)
    with pytest.raises(InputError):
        lb.RadioDefaults(user_terminal_eirp_dbw=float("nan"))


def test_default_user_downlink_closes_from_zenith_to_25_deg():
    # Slant ranges at 550 km (spherical Earth): 550 km at zenith, about 1,123 km at 25 deg.
    snr = lb.user_downlink_snr_db(np.array([550e3, 1_123.4e3]))
    assert snr[0] - snr[1] == pytest.approx(20 * math.log10(1_123.4 / 550), abs=1e-9)
    assert np.all(mc.spectral_efficiency(snr, lb.RADIO_DEFAULTS.modcod_margin_db) > 0)


# ----------------------------------------------------------------------------- atmosphere (ITU-R)

# ITU-R Study Group 3 validation examples (workbook CG-3M3J-13-ValEx, sheet "P.618-13 A_Total"),
# as distributed with ITU-Rpy's tests (test/test_data/618/ITURP618-13_A_total.csv). Inputs:
# f = 14.25 GHz, D = 1 m, eta = 0.65, tau = 0 deg (horizontal polarisation); hs in km from P.1511.
LONDON = dict(lat_deg=51.5, lon_deg=-0.14, elevation_deg=31.07699124, site_height_m=31.382984)
RIO = dict(lat_deg=22.9, lon_deg=-43.23, elevation_deg=22.27833468, site_height_m=0.0)
VALIDATION = [
    # site, p (%), A_rain (dB), A_total (dB)
    (LONDON, 1.0, 0.495316047, 1.212790721),
    (LONDON, 0.1, 2.185843298, 2.901523272),
    (LONDON, 0.01, 6.798060645, 7.507265316),
    (RIO, 0.1, 8.271672355, 9.28165675),
]
#: Stated tolerance against the ITU validation values, dB.
ITU_TOLERANCE_DB = 0.01


@pytest.mark.parametrize("site, p_pct, rain_db, total_db", VALIDATION)
def test_attenuation_matches_itu_validation_examples(site, p_pct, rain_db, total_db):
    parts = atm.atmospheric_attenuation_components_db(
        frequency_hz=14.25e9, availability_pct=100.0 - p_pct, dish_diameter_m=1.0,
        antenna_efficiency=0.65, polarization_tilt_deg=0.0, **site,
    )
    assert parts["rain"] == pytest.approx(rain_db, abs=ITU_TOLERANCE_DB)
    assert parts["total"] == pytest.approx(total_db, abs=ITU_TOLERANCE_DB)
    # The P.618 combination of the parts (section 2.5).
    combined = parts["gas"] + np.sqrt((parts["rain"] + parts["cloud"]) ** 2 + parts["scintillation"] ** 2)
    assert parts["total"] == pytest.approx(combined, abs=1e-9)


def test_site_height_looked_up_in_p1511_when_not_given():
    # London's P.1511 height is the validation's 31.38 m, so the lookup reproduces the value.
    site = {k: v for k, v in LONDON.items() if k != "site_height_m"}
    total = atm.atmospheric_attenuation_db(frequency_hz=14.25e9, availability_pct=99.9, dish_diameter_m=1.0,
                                          antenna_efficiency=0.65, polarization_tilt_deg=0.0, **site)
    assert total == pytest.approx(2.901523272, abs=ITU_TOLERANCE_DB)


def test_attenuation_arrays_duplicates_nan_and_trends():
    lat = np.array([[51.5, 51.5, 50.45], [51.5, -1.29, 51.5]])
    lon = np.array([[-0.14, -0.14, 30.52], [-0.14, 36.82, -0.14]])
    el = np.array([[25.0, 25.0, 40.0], [np.nan, 60.0, 90.0]])
    total = atm.atmospheric_attenuation_db(lat, lon, el, 11.7e9)
    assert total.shape == (2, 3)
    assert total[0, 0] == total[0, 1]                    # the same point, computed once
    assert np.isnan(total[1, 0])                         # not in view
    assert np.all(total[~np.isnan(el)] > 0)
    assert total[1, 2] < total[0, 0]                     # shorter path through the rain at zenith
    # One frequency per call is not required: a mixed array gives what separate calls give.
    mixed = atm.atmospheric_attenuation_db(51.5, -0.14, 25.0, np.array([11.7e9, 14.25e9]))
    alone = atm.atmospheric_attenuation_db(51.5, -0.14, 25.0, 14.25e9)
    assert mixed[1] == pytest.approx(float(alone), abs=1e-12)
    assert mixed[1] > mixed[0]                           # rain attenuation grows with frequency
    # Rarer events are deeper fades.
    deep = atm.atmospheric_attenuation_db(51.5, -0.14, 25.0, 11.7e9, availability_pct=99.99)
    assert deep > total[0, 0]


@pytest.mark.parametrize("kwargs, location", [
    (dict(elevation_deg=2.0), "elevation_deg"),
    (dict(frequency_hz=80e9), "frequency_hz"),
    (dict(lat_deg=95.0), "lat_deg"),
    (dict(availability_pct=100.0), "availability_pct"),
    (dict(availability_pct=float("nan")), "availability_pct"),
    (dict(dish_diameter_m=0.0), "dish_diameter_m"),
    (dict(site_height_m=np.nan), "site_height_m"),
])
def test_attenuation_refuses_inputs_outside_the_itu_method(kwargs, location):
    args = dict(lat_deg=51.5, lon_deg=-0.14, elevation_deg=30.0, frequency_hz=11.7e9)
    args.update(kwargs)
    with pytest.raises(InputError) as e:
        atm.atmospheric_attenuation_db(**args)
    assert e.value.location == location


# ----------------------------------------------------------------------------- MODCOD ladder

# Re-typed from the printed tables: (name, bit/s/Hz, ideal Es/N0 dB).
PRINTED = [
    ("QPSK 1/4", 0.490243, -2.35),       # EN 302 307-1 Table 13
    ("QPSK 1/2", 0.988858, 1.00),
    ("8PSK 2/3", 1.980636, 6.62),
    ("16APSK 3/4", 2.966728, 10.21),
    ("32APSK 9/10", 4.453027, 16.05),
    ("QPSK 13/45", 0.567805, -2.03),     # EN 302 307-2 Table 20a
    ("16APSK 77/90", 3.386618, 11.99),
    ("64APSK 4/5", 4.735354, 15.87),
    ("256APSK 32/45", 5.593162, 18.59),
    ("256APSK 3/4", 5.900855, 19.57),
]


def test_table_values_match_the_standards():
    table = {m.name: m for m in mc.MODCODS}
    assert len(table) == len(mc.MODCODS)                 # names are unique
    for name, eff, esn0 in PRINTED:
        assert table[name].spectral_efficiency_bps_per_hz == eff
        assert table[name].esn0_db == esn0
    assert min(m.esn0_db for m in mc.MODCODS) == -2.35  # QPSK 1/4 is the lowest rung
    assert max(m.spectral_efficiency_bps_per_hz for m in mc.MODCODS) == 5.900855


def test_frontier_is_strictly_monotonic():
    assert np.all(np.diff(mc.FRONTIER_ESN0_DB) > 0)
    assert np.all(np.diff(mc.FRONTIER_EFFICIENCY_BPS_PER_HZ) > 0)
    snr = np.linspace(-10, 30, 4001)
    assert np.all(np.diff(mc.spectral_efficiency(snr)) >= 0)


def test_choice_is_the_best_modcod_whose_threshold_is_met():
    # Brute force over the whole table, as an oracle for the searchsorted frontier.
    for snr in np.linspace(-6, 26, 641):
        for margin in (0.0, 1.5, 3.0):
            met = [m.spectral_efficiency_bps_per_hz for m in mc.MODCODS if m.esn0_db <= snr - margin]
            assert mc.spectral_efficiency(snr, margin) == (max(met) if met else 0.0)


def test_threshold_edges_link_down_and_margin():
    # Just above QPSK 1/4's threshold plus margin: QPSK 1/4; just below: link down.
    assert mc.spectral_efficiency(-2.35 + 3.0 + 1e-9, 3.0) == 0.490243
    assert mc.spectral_efficiency(-2.35 + 3.0 - 1e-9, 3.0) == 0.0
    assert mc.modcod_name(-2.35 + 3.0 - 1e-9, 3.0) == mc.LINK_DOWN_NAME
    assert mc.spectral_efficiency(-2.35, 0.0) == 0.490243   # equal to the threshold is enough
    # The margin shifts the choice: 13.2 dB picks 32APSK 7/9 (13.05 dB) with no margin; with
    # 3 dB (10.2 dB left) the best met is 16APSK 13/18 (9.71 dB, 2.856231), as 16APSK 3/4 needs
    # 10.21 dB.
    assert mc.modcod_name(13.2, 0.0) == "32APSK 7/9"
    assert mc.modcod_name(13.2, 3.0) == "16APSK 13/18"
    assert mc.spectral_efficiency(13.2, 3.0) == 2.856231
    assert mc.spectral_efficiency(100.0) == 5.900855


def test_modcod_vectorised_nan_and_capacity():
    snr = np.array([[np.nan, -20.0], [13.2, 25.0]])
    eff = mc.spectral_efficiency(snr, 3.0)
    assert eff.shape == (2, 2)
    assert np.isnan(eff[0, 0]) and eff[0, 1] == 0.0
    names = mc.modcod_name(snr, 3.0)
    assert names.tolist() == [[mc.UNKNOWN_NAME, mc.LINK_DOWN_NAME], ["16APSK 13/18", "256APSK 3/4"]]
    cap = mc.capacity_bps(snr, 250e6, 3.0)
    np.testing.assert_array_equal(cap[1], eff[1] * 250e6)
    assert cap[1, 1] == pytest.approx(1.475e9, rel=1e-3)     # 5.900855 x 250 MHz
    with pytest.raises(InputError) as e:
        mc.spectral_efficiency(10.0, margin_db=-1.0)
    assert e.value.location == "margin_db"
    with pytest.raises(InputError) as e:
        mc.capacity_bps(10.0, 0.0)
    assert e.value.location == "bandwidth_hz"


def test_attenuation_at_the_poles_is_defined():
    """itur's maps give NaN at exactly -90 deg; a dish at the South Pole then read as a link that
    never closes (NO_SATS with satellites overhead). At the pole the atmosphere is that of 11 m
    away: finite, and equal to it."""
    from leonet.capacity.atmosphere import atmospheric_attenuation_components_db

    for pole in (-90.0, 90.0):
        at = atmospheric_attenuation_components_db([pole], [0.0], [40.0], [11.7e9])
        near = atmospheric_attenuation_components_db([pole * (1 - 1e-6)], [0.0], [40.0], [11.7e9])
        for key, value in at.items():
            assert np.isfinite(value).all(), (pole, key)
            assert value[0] == pytest.approx(near[key][0], abs=1e-3), (pole, key)


def test_attenuation_near_the_north_pole_fills_the_gap_in_the_itur_maps():
    """itur 0.4.0's P.836 water-vapour and P.840 cloud maps lack the row at 88.875 deg N for
    longitudes 37-359 deg: north of 86.625 deg the gas and cloud terms came back NaN there, and a
    site at (89.99999, 179.99999), (88, 179.9) or (89.5, 100) was refused. Those terms are now
    interpolated in latitude between the gap's edge (86.625 deg) and the pole; where itur answers
    (rain, scintillation, longitudes 0-33 deg) its values are kept."""
    import itur

    from leonet.capacity.atmosphere import POLAR_GAP_EDGE_LAT_DEG, atmospheric_attenuation_components_db

    def itur_at(lat, lon, el=40.0, f_hz=11.7e9):
        parts = itur.atmospheric_attenuation_slant_path(lat, lon, f_hz / 1e9, el, 0.5, 0.5, return_contributions=True)
        return [float(getattr(q, "value", q)) for q in parts]

    lat = np.array([89.99999, 88.0, 89.5, 86.7, 89.0])
    lon = np.array([179.99999, 179.9, 100.0, -60.0, 10.0])
    got = atmospheric_attenuation_components_db(lat, lon, [40.0] * 5, [11.7e9] * 5)
    for key in ("gas", "cloud", "rain", "scintillation", "total"):
        assert np.isfinite(got[key]).all(), key
    pole = itur_at(90.0 - 1e-4, 0.0)
    for i in range(5):
        raw = itur_at(min(lat[i], 90.0 - 1e-4), lon[i])   # read 1e-4 deg off the pole, as at -90
        edge = itur_at(POLAR_GAP_EDGE_LAT_DEG, lon[i])
        w = (lat[i] - POLAR_GAP_EDGE_LAT_DEG) / (90.0 - POLAR_GAP_EDGE_LAT_DEG)
        for j, key in enumerate(("gas", "cloud", "rain", "scintillation")):
            if math.isnan(raw[j]):
                assert i < 4, "itur answers at lon 10 deg"
                assert got[key][i] == pytest.approx((1 - w) * edge[j] + w * pole[j], rel=1e-9)
                assert min(edge[j], pole[j]) - 1e-12 <= got[key][i] <= max(edge[j], pole[j]) + 1e-12
            else:
                assert got[key][i] == pytest.approx(raw[j], rel=1e-12), (i, key)
        gas, cloud, rain, scint = (got[k][i] for k in ("gas", "cloud", "rain", "scintillation"))
        assert got["total"][i] == pytest.approx(gas + math.sqrt((rain + cloud) ** 2 + scint ** 2), rel=1e-12)
    # next to the pole every longitude reads the pole (itur's own value at lon 0), and just north
    # of the gap's edge the value is itur's just south of it: no step at either side
    assert got["total"][0] == pytest.approx(pole[4], abs=1e-4)
    just_in = atmospheric_attenuation_components_db([POLAR_GAP_EDGE_LAT_DEG + 1e-6], [100.0], [40.0], [11.7e9])
    assert just_in["total"][0] == pytest.approx(itur_at(POLAR_GAP_EDGE_LAT_DEG - 1e-6, 100.0)[4], abs=1e-5)
