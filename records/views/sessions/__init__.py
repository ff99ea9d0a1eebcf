"""Session views, by what the person is doing.

board     today's board, and scheduling a session
page      the session page (the chairside chart) and the ways a POST from it answers
charting  check-in, screening, orders, administration, vitals, side effects, discharge, cancellation
signing   the nurse's signature, the physician's co-signature, addenda

What a page offers comes from records.workflow; every POST runs one action through
records.views.common.run_action.
"""
