"""Invented demo data and the code that charts it, for `manage.py seed_demo` only.

Nothing else in the product imports this package: the running server knows the
demo accounts only through settings.MFA_EXEMPT_USERNAMES, set in demo mode.
"""
