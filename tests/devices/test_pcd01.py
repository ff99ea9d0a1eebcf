"""Reading PCD-01 messages and writing their ACKs (no listener, no database)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import hl7
import pytest
from django.utils import timezone

from records.devices import mdc, pcd01
from records.devices.messages import mdc_obx, obx, oru

AT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def test_mapping_table_codes():
    """The MDC codes and units, as IEEE 11073-10101 numbers them (partition * 65536 + term code)."""
    codes = {o.reference_id: o.code for o in mdc.OBSERVATIONS}
    assert codes == {
        "MDC_PRESS_BLD_NONINV_SYS": 2 * 65536 + 18949,
        "MDC_PRESS_BLD_NONINV_DIA": 150022,
        "MDC_PRESS_BLD_NONINV_MEAN": 150023,
        "MDC_ECG_HEART_RATE": 147842,
        "MDC_PULS_OXIM_PULS_RATE": 149530,
        "MDC_PULS_OXIM_SAT_O2": 150456,
        "MDC_RESP_RATE": 151562,
        "MDC_TEMP": 150344,
        "MDC_TEMP_BODY": 150364,
    }
    units = {u.reference_id: u.code for u in (o.unit for o in mdc.OBSERVATIONS)}
    assert units == {
        "MDC_DIM_MMHG": 4 * 65536 + 3872,
        "MDC_DIM_BEAT_PER_MIN": 264864,
        "MDC_DIM_PERCENT": 262688,
        "MDC_DIM_RESP_PER_MIN": 264928,
        "MDC_DIM_DEGC": 268192,
    }
    # Vendor codes map one to one onto MDC codes the table knows.
    keys = [(v.system, v.code) for v in mdc.VENDOR_CODES]
    assert len(keys) == len(set(keys))
    assert all(str(v.mdc) in mdc.BY_MDC_CODE for v in mdc.VENDOR_CODES)


def parse(*segments: str, **kwargs) -> pcd01.Parsed:
    return pcd01.parse(oru(list(segments), **kwargs).encode())


def test_times_with_and_without_offset():
    local = timezone.get_fixed_timezone(60)
    assert pcd01.parse_time("20260314093000+0100", local) == AT.replace(hour=8)
    assert pcd01.parse_time("202603140930", local) == AT.replace(hour=8)  # no offset: the clinic's time
    with pytest.raises(ValueError):
        pcd01.parse_time("20260314", local)


def test_values_grouped_by_device_and_time_with_obr_time_as_fallback():
    later = AT + timedelta(minutes=5)
    parsed = parse(
        mdc_obx(1, 150021, 120, at=AT, equipment="A"),
        mdc_obx(2, 150022, 80, at=AT, equipment="A"),
        mdc_obx(3, 150456, 97, equipment="A"),  # no OBX-14: OBR-7
        mdc_obx(4, 147842, 71, at=AT, equipment="B"),
        obx(5, "999999^SOMETHING_ELSE^MDC", "5", "262688^MDC_DIM_PERCENT^MDC"),  # not charted: ignored
        observed_at=later,
    )
    groups = {(g.equipment_id, g.measured_at): g.values for g in parsed.groups}
    assert groups == {
        ("A", AT): {"systolic": 120, "diastolic": 80},
        ("A", later): {"spo2": 97},
        ("B", AT): {"heart_rate": 71},
    }
    assert parsed.problems == []


def test_vendor_codes_and_refid_only_codes():
    parsed = parse(
        obx(1, "160^SpO2^99MON", "96", "%^^UCUM", at=AT),
        obx(2, "^MDC_RESP_RATE^MDC", "13", "^MDC_DIM_RESP_PER_MIN^MDC", at=AT),
    )
    assert parsed.groups[0].values == {"spo2": 96, "respiratory_rate": 13}


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        (mdc_obx(1, 150456, "97.5", at=AT), "more decimals than the flowsheet records"),
        (mdc_obx(1, 150344, "36.85", at=AT), "more decimals"),
        (mdc_obx(1, 150456, "abc", at=AT), "is not a number"),
        (obx(1, "150456^MDC_PULS_OXIM_SAT_O2^MDC", "97", "", at=AT), "unit no unit is not %"),
        (obx(1, "150344^MDC_TEMP^MDC", "310", "266560^MDC_DIM_FAHR^MDC", at=AT), "never converted"),
        (mdc_obx(1, 147842, 300, at=AT), "Heart rate must be between 20 and 250"),
        (mdc_obx(1, 147842, 80), "no observation time"),
    ],
)
def test_values_not_offered_say_why(segment, reason):
    text = re.sub(r"\rOBR\|[^\r]*", "\rOBR|1", oru([segment]))  # no OBR-7 to fall back on
    parsed = pcd01.parse(text.encode())
    assert parsed.groups == []
    assert any(reason in str(p) for p in parsed.problems), parsed.problems


def test_temperature_trailing_zero_is_not_rounding():
    assert parse(mdc_obx(1, 150344, "36.80", at=AT)).groups[0].values == {"temperature": Decimal("36.8")}


def test_bp_pair_and_conflicting_values():
    parsed = parse(
        mdc_obx(1, 150021, 120, at=AT),
        mdc_obx(2, 147842, 70, at=AT),
        obx(3, "150344^MDC_TEMP^MDC", "36.5", "268192^MDC_DIM_DEGC^MDC", at=AT),
        obx(4, "150364^MDC_TEMP_BODY^MDC", "37.5", "268192^MDC_DIM_DEGC^MDC", at=AT),
    )
    assert parsed.groups[0].values == {"heart_rate": 70}
    reasons = " ".join(str(p) for p in parsed.problems)
    assert "only one was sent" in reasons and "a second, different body temperature" in reasons


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"hello", "does not begin with an MSH"),
        (oru([], message_type="ADT^A01").encode(), "Only ORU^R01"),
        (oru([], control_id="").encode().replace(b"||P|2.6", b"||P|2.6"), "MSH-10"),
        (oru([], charset="UNICODE UTF-16").encode(), "is not supported"),
        (oru([]).encode() + b"\xff", "Not valid UNICODE UTF-8"),
    ],
)
def test_unreadable_messages_are_refused(raw, reason):
    if reason == "MSH-10":
        raw = raw.replace(raw.split(b"|")[9], b"", 1)
    with pytest.raises(pcd01.MessageRefused) as refused:
        pcd01.parse(raw)
    assert refused.value.code == "AR"
    assert reason in refused.value.reason


def test_ack_carries_code_control_id_reason_and_errors():
    header = pcd01.read_header(oru([], control_id="ABC&1", sending_application="MON^EUI^EUI-64").encode())
    problems = [pcd01.Problem("OBX 1 (SpO2)", "120 is impossible: SpO2 must be between 50 and 100 %.")]
    ack = hl7.parse(pcd01.ack(header, "AE", "Nothing | usable ^ here", problems).decode())
    msh, msa = ack.segment("MSH"), ack.segment("MSA")
    assert str(msh(9)) == "ACK^R01^ACK" and str(msh(5)) == "MON^EUI^EUI-64" and str(msh(12)) == "2.6"
    assert str(msa(1)) == "AE"
    assert ack.unescape(str(msa(2))) == "ABC&1"
    assert ack.unescape(str(msa(3))) == "Nothing | usable ^ here"
    err = ack.segment("ERR")
    assert str(err(4)) == "E" and "SpO2 must be between 50 and 100" in ack.unescape(str(err(8)))
