"""Physical constants in cgs (CODATA 2018), as listed in model.md §0.4. The only home of constants."""
import math

c = 2.99792458e10  # speed of light [cm s^-1]
G = 6.67430e-8  # gravitational constant [cm^3 g^-1 s^-2]
m_e = 9.1093837015e-28  # electron mass [g]
m_p = 1.67262192369e-24  # proton mass [g]
e = 4.80320471e-10  # elementary charge [esu]
sigma_T = 6.6524587321e-25  # Thomson cross-section [cm^2]
k_B = 1.380649e-16  # Boltzmann constant [erg K^-1]
h = 6.62607015e-27  # Planck constant [erg s]
sigma_SB = 5.670374419e-5  # Stefan-Boltzmann constant [erg cm^-2 s^-1 K^-4]
M_sun = 1.98847e33  # solar mass [g]
eV = 1.602176634e-12  # electron volt [erg]
pc = 3.0857e18  # parsec [cm]
alpha_f = 1.0 / 137.036  # fine-structure constant
a_rad = 4.0 * sigma_SB / c  # radiation constant [erg cm^-3 K^-4]

m_e_c2 = m_e * c**2  # electron rest energy [erg]
m_p_c2 = m_p * c**2  # proton rest energy [erg]
r_e = e**2 / m_e_c2  # classical electron radius [cm]
B_crit = m_e**2 * c**3 / (e * h / (2.0 * math.pi))  # critical (Schwinger) field [G]


def schwarzschild_radius(mass_g: float) -> float:
    """R_s = 2GM/c^2 [cm]."""
    return 2.0 * G * mass_g / c**2


def eddington_luminosity(mass_g: float) -> float:
    """L_Edd = 4 pi G M m_p c / sigma_T [erg s^-1]."""
    return 4.0 * math.pi * G * mass_g * m_p * c / sigma_T
