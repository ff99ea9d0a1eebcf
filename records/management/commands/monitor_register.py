from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.actions.context import Actor
from records.actions.devices import monitor_register


class Command(BaseCommand):
    help = (
        "Register a bedside monitor at a chair, or move a registered one (audited). DEVICE_ID is the identity "
        "its messages carry: the equipment identifier in OBX-18, or the sending application in MSH-3."
    )

    def add_arguments(self, parser):
        parser.add_argument("device_id")
        parser.add_argument("--chair", required=True, help='The chair as sessions name it, e.g. "Chair 4".')

    def handle(self, *args, device_id, chair, **options):
        try:
            monitor = monitor_register(actor=Actor.system("monitor_register"), device_id=device_id, chair=chair)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Monitor {monitor.device_id} registered at {monitor.chair}.")
