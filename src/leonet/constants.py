"""Physical constants used across leonet (SI units, names carry units).

Sources: WGS84 (NIMA TR8350.2, 3rd ed.), IERS Conventions 2010 for Earth rotation,
CODATA for the speed of light. SGP4 itself uses WGS72 constants internally, as the
element sets are fitted with them (Vallado et al., "Revisiting Spacetrack Report #3", 2006).
"""

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0

WGS84_A_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

#: Earth's gravitational parameter (WGS84), m^3/s^2.
EARTH_MU_M3_PER_S2 = 3.986004418e14
#: Mean equatorial radius used for orbital altitude conventions (WGS84 a), m.
EARTH_RADIUS_M = WGS84_A_M
#: Second zonal harmonic (WGS84), dimensionless; used for nodal precession estimates.
EARTH_J2 = 1.08262668e-3
#: Earth rotation rate (IERS), rad/s.
EARTH_ROTATION_RAD_PER_S = 7.2921150e-5

NS_PER_S = 1_000_000_000
S_PER_DAY = 86_400.0
NS_PER_DAY = 86_400 * NS_PER_S

#: Unix epoch (1970-01-01T00:00:00 UTC) as a Julian date.
JD_UNIX_EPOCH = 2_440_587.5

#: Days from an element set's epoch within which leonet trusts SGP4 for real satellites (their
#: manoeuvres and drag put them kilometres off within weeks; assumption). Beyond it the realism
#: check runs on the set's own date, and `leonet dish` refuses a start.
SGP4_TRUSTED_DAYS = 14
