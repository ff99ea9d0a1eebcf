from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel


class Addendum(RecordModel):
    """Later information on a signed session (FHIR Provenance). Append-only: never replaces the original."""

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=4000)
    reason = models.CharField(max_length=500)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=300)
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["written_at", "id"]
        verbose_name_plural = "addenda"
        constraints = [
            models.CheckConstraint(condition=Q(text__regex=r"\S"), name="addendum_text_not_blank"),
            models.CheckConstraint(condition=Q(reason__regex=r"\S"), name="addendum_reason_not_blank"),
        ]

    def __str__(self) -> str:
        return f"Addendum by {self.author_name} ({self.written_at:%Y-%m-%d %H:%M})"
