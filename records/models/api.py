"""Access to the FHIR read API: personal tokens, and the rate limit's shared counters."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel


class ApiToken(RecordModel):
    """A personal token for the FHIR read API (`Authorization: Bearer ...`), issued by an admin for one account.

    Only the SHA-256 of the token is kept. The token is 256 random bits, so a fast
    hash is enough: nobody can guess or brute-force a preimage, unlike a password,
    which is why passwords need a slow salted hash and tokens do not; a fast hash also
    lets each request find its token with one indexed lookup. The token is shown once,
    when it is issued. A revoked token keeps its row, with who revoked it and when.

    The token reads with its account's role and never more: a deactivated account's
    tokens stop working with it.
    """

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the receiving system's name.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so that people can tell their tokens apart.
    prefix = models.CharField(max_length=16, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(name__regex=r"\S"), name="api_token_name_not_blank"),
            models.CheckConstraint(
                condition=Q(revoked_by__isnull=True) | Q(revoked_at__isnull=False),
                name="api_token_revoker_only_when_revoked",
            ),
        ]
        # Permissions of the FHIR export, declared here with the API's own model.
        permissions = [
            ("export_fhir", "Can export the whole clinic's records in the FHIR bulk data format"),
            ("download_fhir_record", "Can download one patient's record as a FHIR Bundle"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class RateLimitCounter(RecordModel):
    """The table of Django's database cache `CACHES["ratelimit"]`: the API's request counters.

    Created by a migration rather than `createcachetable`, so that every database the
    application migrates has it. The columns are the ones Django's DatabaseCache uses.
    Not clinical data: rows expire and are culled by the cache itself.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "records_ratelimit_cache"

    def __str__(self) -> str:
        return self.cache_key
