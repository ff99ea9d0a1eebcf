import asyncio
import logging

from django.core.management.base import BaseCommand, CommandError

from records.devices.listener import Limits, MonitorListener


class Command(BaseCommand):
    help = (
        "Receive bedside monitors' readings: an MLLP server for HL7 v2 ORU^R01 (IHE PCD-01) messages. "
        "Readings wait on the session page for a nurse to accept them. Runs until stopped (Ctrl-C or SIGTERM)."
    )

    def add_arguments(self, parser):
        defaults = Limits()
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=2575, help="TCP port (default 2575, HL7's registered port).")
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=defaults.max_message_bytes,
            help=f"Largest message taken, in bytes (default {defaults.max_message_bytes}); larger ones get AR.",
        )
        parser.add_argument(
            "--idle-timeout",
            type=float,
            default=defaults.idle_timeout,
            help=f"Seconds a connection may stay quiet between messages (default {defaults.idle_timeout:g}).",
        )
        parser.add_argument(
            "--frame-timeout",
            type=float,
            default=defaults.frame_timeout,
            help=f"Seconds from a message's first byte to its end (default {defaults.frame_timeout:g}).",
        )
        parser.add_argument(
            "--max-connections",
            type=int,
            default=defaults.max_connections,
            help=f"Connections open at once (default {defaults.max_connections}).",
        )

    def handle(self, *args, host, port, max_bytes, idle_timeout, frame_timeout, max_connections, **options):
        if not 0 <= port <= 65535:
            raise CommandError("--port must be between 0 and 65535.")
        if max_bytes < 1024 or idle_timeout <= 0 or frame_timeout <= 0 or max_connections < 1:
            raise CommandError("--max-bytes must be at least 1024, the timeouts and --max-connections positive.")
        verbosity = options.get("verbosity", 1)
        logging.getLogger("records.devices").setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
        limits = Limits(
            max_message_bytes=max_bytes,
            idle_timeout=idle_timeout,
            frame_timeout=frame_timeout,
            max_connections=max_connections,
        )
        listener = MonitorListener(host, port, limits)
        try:
            asyncio.run(listener.serve_forever())
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
