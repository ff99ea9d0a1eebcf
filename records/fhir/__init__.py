"""The FHIR R4 form of the clinic's records: one module per resource type, the export, the read API's reads.

Every resource is built from what was recorded and nothing else: no value is
computed for the export that a clinician did not enter (docs/fhir.md).
"""
