"""The base of every clinical model: Django's constraint validation, with the check constraints asked in one query.

`full_clean()` validates each CheckConstraint with its own query, each inside its own savepoint:
a vitals reading's twenty checks were sixty round trips before its INSERT, on the nurse's write
path. `RecordModel.validate_constraints` asks the database the same questions in one SELECT (one
column per constraint, each condition exactly as Django would evaluate it: UNKNOWN passes, as in
the table's CHECK) and reports the failures with the same messages, codes and order as Django.
The database still enforces every constraint on the write itself.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import BooleanField, CheckConstraint, ExpressionWrapper, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

logger = logging.getLogger(__name__)


def failing_checks(
    instance: models.Model,
    model_class: type[models.Model],
    checks: list[CheckConstraint],
    exclude: set[str],
    using: str,
) -> set[str] | None:
    """The names of the check constraints `instance` breaks, from one query; None if the query could not run."""
    connection = connections[using]
    # Django's own map of the instance's values, as CheckConstraint.validate builds it (not in the stubs).
    against = instance._get_field_expression_map(meta=model_class._meta, exclude=exclude)  # type: ignore[attr-defined]
    query = Query(None)
    for name, value in against.items():
        query.add_annotation(value if hasattr(value, "resolve_expression") else Value(value), name, select=False)
    columns = []
    for index, constraint in enumerate(checks):
        condition = constraint.condition
        if connection.features.supports_comparing_boolean_expr:
            # A check constraint does not fail when it evaluates to UNKNOWN (as CheckConstraint.validate).
            condition = Coalesce(condition, True, output_field=BooleanField())
        alias = f"_check_{index}"
        query.add_annotation(ExpressionWrapper(Q(condition), output_field=BooleanField()), alias)
        columns.append(constraint.name)
    try:
        with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
            row = query.get_compiler(using=using).execute_sql(SINGLE)
    except DatabaseError as error:
        logger.warning("The check constraints of %s could not be asked in one query: %s", model_class.__name__, error)
        return None
    return {name for name, passed in zip(columns, row, strict=True) if passed is not None and not passed}


class RecordModel(models.Model):
    class Meta:
        abstract = True

    def validate_constraints(self, exclude: Any = None) -> None:
        exclude = set(exclude or ())
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict[str, Any] = {}
        for model_class, constraints in self.get_constraints():
            checks = [
                c
                for c in constraints
                if isinstance(c, CheckConstraint)
                and not (exclude and c._expression_refs_exclude(model_class, c.condition, exclude))  # type: ignore[attr-defined]
            ]
            failing = failing_checks(self, model_class, checks, exclude, using) if checks else set()
            for constraint in constraints:
                try:
                    if isinstance(constraint, CheckConstraint) and failing is not None:
                        if constraint.name in failing:
                            raise ValidationError(
                                constraint.get_violation_error_message(), code=constraint.violation_error_code
                            )
                        continue
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as e:
                    if getattr(e, "code", None) == "unique" and len(getattr(constraint, "fields", ())) == 1:
                        errors.setdefault(constraint.fields[0], []).append(e)  # type: ignore[attr-defined]
                    else:
                        errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
