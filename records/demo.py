"""Invented demo data: accounts with published passwords and fictional patients.

Only `manage.py seed_demo` uses it, and only in demo mode.
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
]
