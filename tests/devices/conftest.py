from tests.mllp import listener  # noqa: F401  (fixture: the listener as its own process)
