"""Real MLLP traffic from python-hl7's client to `manage.py monitor_listener` running as its own process.

Each message gets the right ACK (MSA-1 and the reason in MSA-3/ERR) and leaves the
right rows in the test database, which the listener shares (a file on SQLite).
"""

import socket
import threading
from datetime import timedelta
from decimal import Decimal

import hl7
import pytest
from django.utils import timezone
from hl7.client import MLLPClient

from records.actions.context import Actor
from records.actions.devices import monitor_register
from records.audit.chain import verify_chain
from records.devices.messages import ack_code, mdc_obx, obx, oru, send, vitals_message
from records.models import AuditEvent, DeviceReading, VitalsReading

pytestmark = [pytest.mark.separate_process, pytest.mark.django_db(transaction=True), pytest.mark.long_running]

VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"
EUI = "0123456789ABCDEF"


def register(device_id: str, chair: str):
    return monitor_register(actor=Actor.system("tests"), device_id=device_id, chair=chair)


def exchange(listener, message, client=None):
    """(MSA-1, MSA-3, the ACK) for one message sent with python-hl7's MLLP client."""
    if client is not None:
        ack = send(client, message)
    else:
        with MLLPClient(listener.host, listener.port) as own:
            ack = send(own, message)
    code, text = ack_code(ack)
    return code, text, ack


def raw_exchange(sock: socket.socket, data: bytes) -> hl7.Message:
    """Send raw bytes (framing under test) and read one framed ACK."""
    sock.sendall(data)
    return read_ack(sock)


def read_ack(sock: socket.socket) -> hl7.Message:
    buffer = b""
    while not buffer.endswith(FS + CR):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {buffer!r}")
        buffer += chunk
    return hl7.parse(buffer.strip(VT).rstrip(CR).rstrip(FS).decode())


def errors_of(ack: hl7.Message) -> list[str]:
    return [ack.unescape(str(segment(8))) for segment in ack if str(segment[0]) == "ERR"]


def pcd01(at, *, equipment=EUI, control_id=None, overrides=None):
    """A PCD-01 message as a monitor sends it: every vital we chart, coded in MDC, OBX-18 the monitor's EUI-64."""
    values = {
        150021: 128,
        150022: 82,
        150023: 97,
        147842: 76,
        149530: 75,
        150456: 98,
        151562: 14,
        150344: "36.8",
    }
    values.update(overrides or {})
    segments = [
        mdc_obx(i, code, value, at=at, equipment=f"{equipment}^EUI-64")
        for i, (code, value) in enumerate(values.items(), start=1)
    ]
    return oru(segments, control_id=control_id, observed_at=at)


def test_pcd01_message_with_mdc_codes_is_offered_to_the_session_in_the_chair(listener, patient, sessions):
    session = sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")
    at = timezone.now().replace(microsecond=0)
    typed_before = VitalsReading.objects.count()

    code, text, ack = exchange(listener, pcd01(at, control_id="PCD-0001"))

    assert code == "AA", text
    assert str(ack.segment("MSA")(2)) == "PCD-0001"
    assert "offered for acceptance in Chair 4" in text
    reading = DeviceReading.objects.get()
    assert reading.session_id == session.pk
    assert reading.state == "pending"
    assert reading.measured_at == at
    assert reading.message_control_id == "PCD-0001"
    assert reading.values == {
        "systolic": 128,
        "diastolic": 82,
        "mean_bp": 97,
        "heart_rate": 76,
        "pulse_rate": 75,
        "spo2": 98,
        "respiratory_rate": 14,
        "temperature": Decimal("36.8"),
    }
    # Offered, not charted.
    assert VitalsReading.objects.count() == typed_before
    event = AuditEvent.objects.get(record_type="devicereading", record_id=str(reading.pk))
    assert (event.action, event.actor_role, event.actor_username) == ("create", "system", "monitor_listener")
    assert event.patient_id == patient.pk
    assert event.ip_address == "127.0.0.1"


def test_vendor_coded_message_maps_onto_mdc(listener, patient, sessions):
    session = sessions.to(patient, "recovery", chair="Chair 5")
    register("VENDOR-MON-5", "Chair 5")  # named by the sending application, MSH-3
    at = timezone.now().replace(microsecond=0)
    message = vitals_message(
        {"systolic": 141, "diastolic": 88, "heart_rate": 91, "spo2": 96, "temperature": Decimal("37.1")},
        device_id="VENDOR-MON-5",
        at=at,
        vendor=True,
    )
    assert "170^systolic^99MON" in message and "MDC" not in message.split("\r", 4)[-1]

    code, text, _ = exchange(listener, message)

    assert code == "AA", text
    reading = DeviceReading.objects.get()
    assert (reading.session_id, reading.device_id) == (session.pk, "VENDOR-MON-5")
    assert (reading.systolic, reading.diastolic, reading.heart_rate, reading.spo2) == (141, 88, 91, 96)
    assert reading.temperature == Decimal("37.1")


def test_unknown_device_is_refused_and_nothing_kept(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")

    code, text, ack = exchange(listener, pcd01(timezone.now() - timedelta(minutes=1), equipment="FEEDFACEFEEDFACE"))

    assert code == "AE"
    assert "Unknown device" in text and "FEEDFACEFEEDFACE" in text
    assert any("Unknown device" in e for e in errors_of(ack))
    assert not DeviceReading.objects.exists()


def test_chair_without_a_session_keeps_the_reading_unmatched(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    sessions.to(patient, "discharged", chair="Chair 7")  # discharged: no longer between arrival and discharge
    register(EUI, "Chair 7")

    code, text, _ = exchange(listener, pcd01(timezone.now() - timedelta(minutes=1)))

    assert code == "AA", text
    reading = DeviceReading.objects.get()
    assert reading.session is None
    assert reading.state == "pending"
    assert reading.unmatched_reason == "No session in Chair 7 between arrival and discharge when it arrived."
    assert "kept as unmatched" in text


def test_invalid_values_are_not_offered(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")
    at = timezone.now().replace(microsecond=0)

    # Only an impossible SpO2: nothing to offer.
    code, text, _ = exchange(listener, oru([mdc_obx(1, 150456, 140, at=at, equipment=EUI)]))
    assert code == "AE"
    assert "SpO2" in text and "between 50 and 100" in text
    assert not DeviceReading.objects.exists()

    # A good heart rate, a temperature in Fahrenheit (never converted), an SpO2 the monitor
    # marked invalid (result status X), an empty respiratory rate: only the heart rate is offered.
    segments = [
        mdc_obx(1, 147842, 88, at=at, equipment=EUI),
        obx(2, "150344^MDC_TEMP^MDC", "98.6", "266560^MDC_DIM_FAHR^MDC", at=at, equipment=EUI),
        mdc_obx(3, 150456, 97, at=at, equipment=EUI, status="X"),
        mdc_obx(4, 151562, "", at=at, equipment=EUI),
    ]
    code, text, ack = exchange(listener, oru(segments))

    assert code == "AA", text
    assert "not offered" in text
    errors = errors_of(ack)
    assert any("unit 266560 MDC_DIM_FAHR is not °C" in e and "never converted" in e for e in errors), errors
    assert any("result status X" in e for e in errors), errors
    reading = DeviceReading.objects.get()
    assert reading.values == {"heart_rate": 88}


def test_malformed_frames_are_answered_and_the_listener_keeps_going(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")
    at = timezone.now().replace(microsecond=0)
    good = pcd01(at, control_id="GOOD-1").encode()
    with socket.create_connection((listener.host, listener.port), timeout=10) as sock:
        # No start block: answered AR, with its own control id.
        ack = raw_exchange(sock, good.replace(b"GOOD-1", b"NOVT-1") + FS + CR)
        assert ack_code(ack)[0] == "AR" and str(ack.segment("MSA")(2)) == "NOVT-1"
        assert "start block" in ack_code(ack)[1]
        # A frame cut short by the next start block: the first is refused, the second taken.
        sock.sendall(VT + pcd01(at, control_id="CUT-1").encode()[:300] + VT + good + FS + CR)
        first, second = read_ack(sock), read_ack(sock)
        assert ack_code(first)[0] == "AR" and "end block" in ack_code(first)[1]
        assert ack_code(second)[0] == "AA"
        # Not HL7 at all.
        ack = raw_exchange(sock, VT + b"hello, is anyone there?" + FS + CR)
        assert ack_code(ack)[0] == "AR" and "MSH" in ack_code(ack)[1]
        # Declared UTF-8, but a Latin-1 byte inside.
        broken = pcd01(at, control_id="ENC-1").encode().replace(b"monitoring of patient", b"surveillance \xe9")
        ack = raw_exchange(sock, VT + broken + FS + CR)
        assert ack_code(ack)[0] == "AR" and "UTF-8" in ack_code(ack)[1]
        assert str(ack.segment("MSA")(2)) == "ENC-1"
        # Not an observation result, and unknown Z-segments in one that is.
        admit = oru([], control_id="ADT-1", message_type="ADT^A01^ADT_A01").encode()
        assert ack_code(raw_exchange(sock, VT + admit + FS + CR))[0] == "AR"
        with_z = pcd01(at - timedelta(seconds=10), control_id="Z-1") + "\rZXX|1|vendor private|^~&"
        assert ack_code(raw_exchange(sock, VT + with_z.encode() + FS + CR))[0] == "AA"
    # Bytes that are not MLLP, then a dropped connection.
    with socket.create_connection((listener.host, listener.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with socket.create_connection((listener.host, listener.port), timeout=10) as sock:
        sock.sendall(VT + good[:100])  # and gone, mid-message
    code, _, _ = exchange(listener, pcd01(at - timedelta(seconds=20), control_id="AFTER-1"))
    assert code == "AA"
    assert listener.alive()
    assert DeviceReading.objects.count() == 3  # GOOD-1 (once), Z-1, AFTER-1


def test_one_megabyte_message_is_refused_and_the_connection_stays_in_step(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")
    at = timezone.now().replace(microsecond=0)
    padding = "\r".join(f"NTE|{i}||{'x' * 1000}" for i in range(1024))  # about 1 MB of notes
    huge = pcd01(at, control_id="HUGE-1") + "\r" + padding
    assert len(huge.encode()) > 1_000_000

    with MLLPClient(listener.host, listener.port) as client:
        client.socket.settimeout(30)
        code, text, ack = exchange(listener, huge, client)
        assert code == "AR"
        assert str(ack.segment("MSA")(2)) == "HUGE-1"
        assert "limit is 262144 bytes" in text
        code, text, _ = exchange(listener, pcd01(at, control_id="SMALL-1"), client)
        assert code == "AA", text
    assert list(DeviceReading.objects.values_list("message_control_id", flat=True)) == ["SMALL-1"]


def test_duplicates_are_ignored(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")
    at = timezone.now().replace(microsecond=0)

    assert exchange(listener, pcd01(at, control_id="DUP-1"))[0] == "AA"
    code, text, _ = exchange(listener, pcd01(at, control_id="DUP-2"))  # a resend: same device, time, values

    assert code == "AA"
    assert "duplicate" in text
    assert DeviceReading.objects.count() == 1
    assert exchange(listener, pcd01(at, control_id="DUP-3", overrides={150456: 97}))[0] == "AA"  # one value differs
    assert DeviceReading.objects.count() == 2


def test_slow_and_silent_connections_are_closed_without_stopping_others(listener, patient, sessions):
    sessions.to(patient, "in_progress", chair="Chair 4")
    register(EUI, "Chair 4")
    at = timezone.now().replace(microsecond=0)
    with socket.create_connection((listener.host, listener.port), timeout=10) as slow:
        slow.sendall(VT + pcd01(at).encode()[:200])  # then nothing: a stalled monitor
        assert exchange(listener, pcd01(at, control_id="MEANWHILE"))[0] == "AA"
        # Closed by the listener after its 2 s frame time-out; one that never closed it fails here
        # with the socket's own 15 s time-out (long for a loaded machine, short of the default 30 s).
        slow.settimeout(15)
        assert slow.recv(1024) == b""
    assert listener.alive()


def test_twenty_monitors_at_once(listener, make_patient, sessions):
    chairs = [f"Chair {n}" for n in range(1, 21)]
    for n, chair in enumerate(chairs):
        sessions.to(make_patient(), "in_progress", chair=chair)
        register(f"MON{n:013d}", chair)
    base = timezone.now().replace(microsecond=0) - timedelta(seconds=30)
    results: list[tuple[str, str]] = []
    failures: list[BaseException] = []

    def monitor(n: int) -> None:
        try:
            with MLLPClient(listener.host, listener.port) as client:
                client.socket.settimeout(60)
                for k in range(5):
                    at = base + timedelta(seconds=5 * k)
                    message = pcd01(at, equipment=f"MON{n:013d}", overrides={147842: 70 + k})
                    code, text, _ = exchange(listener, message, client)
                    results.append((code, text))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=monitor, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert failures == []
    assert len(results) == 100
    assert {code for code, _ in results} == {"AA"}, results[:3]
    assert DeviceReading.objects.count() == 100
    assert DeviceReading.objects.filter(session__isnull=True).count() == 0
    assert {r.chair for r in DeviceReading.objects.all()} == set(chairs)
    assert verify_chain().intact
