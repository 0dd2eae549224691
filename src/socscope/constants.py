"""Physical constants (CODATA 2018; exact SI values where defined)."""

#: Faraday constant [C/mol]
F = 96485.33212
#: Molar gas constant [J/(mol K)]
R = 8.314462618
#: Reference temperature of the shipped data sets [K]
T_REF = 298.15
#: 1 mAh/g expressed in C/kg
C_KG_PER_MAH_G = 3600.0
