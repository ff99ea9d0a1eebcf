import random
import re
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from hl7.client import MLLPClient

from records.actions.context import Actor
from records.actions.devices import monitor_register
from records.devices.messages import Patient, ack_code, send, vitals_message
from records.models import Monitor


class Command(BaseCommand):
    help = (
        "Demo only: act as a bedside monitor at a chair and send realistic readings to the monitor listener "
        "over MLLP, so they arrive on that chair's session page for a nurse to accept. Refused outside DEMO_MODE: "
        "made-up values must never be offered for a real patient."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chair", required=True, help='The chair, as sessions name it, e.g. "Chair 4".')
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)
        parser.add_argument("--interval", type=float, default=20.0, help="Seconds between readings (default 20).")
        parser.add_argument("--count", type=int, default=0, help="Readings to send, then stop (default: until Ctrl-C).")
        parser.add_argument("--vendor", action="store_true", help="Send vendor codes instead of MDC codes.")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, chair, host, port, interval, count, vendor, seed, **options):
        if not settings.DEMO_MODE:
            raise CommandError("simulate_monitor runs only in demo mode (DEMO_MODE=1): its values are made up.")
        device_id = "SIM-" + re.sub(r"[^A-Za-z0-9]+", "-", chair).strip("-").upper()
        monitor = Monitor.objects.filter(device_id=device_id).first()
        if monitor is None or monitor.chair != " ".join(chair.split()) or not monitor.active:
            monitor = monitor_register(actor=Actor.system("simulate_monitor"), device_id=device_id, chair=chair)
            self.stdout.write(f"Registered the simulated monitor {device_id} at {monitor.chair}.")
        patient = Patient(random.Random(seed))  # noqa: S311 (made-up demo values, not security)
        sent = 0
        self.stdout.write(f"Sending a reading every {interval:g} s to {host}:{port} as {device_id} (Ctrl-C stops).")
        try:
            while not count or sent < count:
                values = patient.step()
                if sent % 3:  # NIBP every third cycle, like a cuff on a timer; the rest is continuous
                    for vital in ("systolic", "diastolic", "mean_bp"):
                        values.pop(vital)
                if sent % 4:
                    values.pop("temperature")
                message = vitals_message(values, device_id=device_id, at=timezone.now(), vendor=vendor)
                try:
                    with MLLPClient(host, port) as client:
                        code, text = ack_code(send(client, message))
                except OSError as exc:
                    raise CommandError(
                        f"Cannot reach the monitor listener on {host}:{port} ({exc.strerror or exc}). "
                        "Start it with: python manage.py monitor_listener"
                    ) from None
                sent += 1
                shown = ", ".join(f"{k} {v}" for k, v in values.items())
                self.stdout.write(f"{timezone.localtime():%H:%M:%S} sent {shown}: {code} {text}")
                if not count or sent < count:
                    time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write(f"Stopped after {sent} readings.")
