"""The audit report's sorts by user, role, address and details read an index, not a sort of every event.

On PostgreSQL, with sorting made prohibitively expensive for the planner, the page's query
must still find a plan without a Sort: one that reads the sort's index in order
(migrations 0009_audit_report_indexes and 0010_audit_details_sort_index). Without the index the
plan sorts.
"""

import pytest
from django.db import connection, transaction

from records.selectors import audit_events

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="plans are PostgreSQL's"),
]


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("user", "audit_user_sort_idx"),
        ("-user", "audit_user_sort_idx"),
        ("role", "audit_role_sort_idx"),
        ("from", "audit_address_sort_idx"),
        ("-from", "audit_address_sort_idx"),
        ("details", "audit_details_sort_idx"),
        ("-details", "audit_details_sort_idx"),
    ],
)
def test_the_sort_reads_its_index(admin_user, sort, index):
    plan = page_plan(admin_user, sort)
    assert index in plan, plan
    assert "Sort" not in plan, plan


def test_a_sort_without_an_index_sorts(admin_user):
    """The check above can tell: the whole log sorted by patient in one query (the MRN, through a join) sorts."""
    assert "Sort" in page_plan(admin_user, "patient")


@pytest.mark.parametrize("sort", ["patient", "-patient"])
def test_the_report_by_patient_reads_patient_by_patient(admin_user, sort):
    """The report's pages by patient (records.selectors.PatientSortedEvents) walk the patients in MRN order
    by its unique index and fetch each one's events by the patient's index: at most a sort within one
    patient's events (Incremental Sort, presorted by MRN), never a sort of the log."""
    from records.selectors import audit_report_rows

    rows = audit_report_rows(audit_events(user=admin_user, sort=sort, before_seq=10**9), sort)
    plan = plan_of(rows.about_patients[:50], "SET LOCAL enable_sort = off", "SET LOCAL enable_hashjoin = off")
    assert "Index Scan" in plan and "records_patient_mrn_key" in plan, plan
    assert "Nested Loop" in plan, plan
    assert all("Incremental Sort" in line for line in plan.splitlines() if "Sort  " in line or "Sort (" in line), plan


def page_plan(user, sort: str) -> str:
    return plan_of(audit_events(user=user, sort=sort, before_seq=10**9)[:50], "SET LOCAL enable_sort = off")


def plan_of(queryset, *settings: str) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(setting)
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
