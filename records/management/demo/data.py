"""Invented demo data: accounts with published passwords and fictional patients.

Only `manage.py seed_demo` uses it, and only in demo mode. The usernames are repeated in
clinic/settings.py (MFA_EXEMPT_USERNAMES), which must not import this module.
"""

from datetime import date

DEMO_PASSWORDS = {
    "nurse": "Infusion-demo-N1",
    "physician": "Infusion-demo-P1",
    "admin": "Infusion-demo-A1",
}

DEMO_ACCOUNTS = [
    # username, first name, last name, role
    ("nurse", "Nora", "Hale", "nurse"),
    ("physician", "Paul", "Okafor", "physician"),
    ("admin", "Ada", "Lindqvist", "admin"),
]

DEMO_PATIENTS = [
    # mrn, family, given, date of birth, sex, allergies
    ("DEMO-1001", "Alvarez", "Maria", date(1979, 3, 14), "female", "No known allergies"),
    ("DEMO-1002", "Brennan", "Thomas", date(1985, 11, 2), "male", "Penicillin (rash)"),
    ("DEMO-1003", "Chen", "Li", date(1990, 6, 21), "female", "No known allergies"),
    ("DEMO-1004", "Dubois", "Camille", date(1972, 1, 30), "female", "Sulfonamides (hives)"),
    ("DEMO-1005", "Eriksen", "Jonas", date(1968, 8, 9), "male", "No known allergies"),
    ("DEMO-1006", "Fofana", "Awa", date(1995, 4, 17), "female", "Latex (contact dermatitis)"),
    ("DEMO-1007", "Gallagher", "Sean", date(1981, 12, 5), "male", "No known allergies"),
    ("DEMO-1008", "Hoffmann", "Lena", date(1988, 9, 26), "female", "Codeine (nausea)"),
    ("DEMO-1009", "Iyer", "Ravi", date(1976, 2, 11), "male", "No known allergies"),
    ("DEMO-1010", "Jansen", "Eva", date(1993, 7, 3), "female", "No known allergies"),
    ("DEMO-1011", "Kowalski", "Piotr", date(1964, 5, 28), "male", "Ibuprofen (wheeze)"),
    ("DEMO-1012", "Lopez", "Sofia", date(2000, 10, 19), "female", "No known allergies"),
    # On the monitoring protocols (records.management.demo.protocols).
    ("DEMO-1013", "Moreno", "Ines", date(1983, 2, 8), "female", "No known allergies"),
    ("DEMO-1014", "Novak", "Adam", date(1974, 11, 23), "male", "No known allergies"),
]


# Demo sessions: one per patient, in every state, charted through the real actions.
# (mrn, target state, chair, route, how the screening goes)
DEMO_SESSIONS = [
    ("DEMO-1001", "cosigned", "Chair 1", "iv_infusion", "clear"),
    ("DEMO-1002", "signed", "Chair 2", "iv_infusion", "clear"),
    ("DEMO-1003", "discharged", "Chair 3", "iv_infusion", "clear"),
    ("DEMO-1004", "recovery", "Chair 4", "iv_infusion", "clear"),
    ("DEMO-1005", "in_progress", "Chair 5", "iv_infusion", "held_then_proceed"),
    ("DEMO-1006", "held", "Chair 6", "iv_infusion", "held"),
    ("DEMO-1007", "cleared", "Chair 7", "intranasal", "clear"),
    ("DEMO-1008", "screening", "Room A", "im_injection", "clear"),
    ("DEMO-1009", "arrived", "Chair 8", "iv_infusion", "clear"),
    ("DEMO-1010", "scheduled", "Chair 1", "oral_troche", "clear"),
    ("DEMO-1011", "no_show", "Chair 2", "iv_infusion", "clear"),
    ("DEMO-1012", "stopped_early", "Chair 3", "iv_infusion", "clear"),
]

# Flowsheet rows (minutes after the start, phase, systolic, diastolic, HR, SpO2, RR, pain, RASS, dissociation)
DEMO_VITALS = [
    (0, "during", 132, 84, 78, 98, 14, 6, 0, "none"),
    (15, "during", 146, 90, 88, 97, 15, 4, -1, "mild"),
    (30, "during", 164, 96, 94, 96, 16, 3, -1, "moderate"),
    (45, "during", 150, 90, 86, 97, 15, 2, 0, "mild"),
]
