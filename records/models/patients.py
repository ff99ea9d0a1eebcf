from datetime import date

from django.db import models

from records.models.base import RecordModel


class Sex(models.TextChoices):
    # FHIR administrative gender
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(RecordModel):
    """A person the clinic treats. Deactivated, never deleted."""

    mrn = models.CharField("MRN", max_length=32, unique=True, help_text="Medical record number, unique in the clinic.")
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices)
    allergies = models.TextField(max_length=2000, help_text="Drug and other allergies, or 'No known allergies'.")
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    address = models.TextField(max_length=500, blank=True)
    emergency_contact = models.CharField(max_length=200, blank=True, help_text="Name and phone number.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Incremented on every change; an edit based on an older version is refused
    # so that two people editing at once never overwrite each other silently.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["family_name", "given_name", "mrn"]
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(mrn__regex=r"\S"), name="patient_mrn_not_blank"),
            models.CheckConstraint(condition=models.Q(family_name__regex=r"\S"), name="patient_family_name_not_blank"),
            models.CheckConstraint(condition=models.Q(given_name__regex=r"\S"), name="patient_given_name_not_blank"),
            models.CheckConstraint(condition=models.Q(allergies__regex=r"\S"), name="patient_allergies_recorded"),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__gte=date(1900, 1, 1)), name="patient_dob_plausible"
            ),
        ]
        permissions = [("deactivate_patient", "Can deactivate and reactivate a patient")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years
