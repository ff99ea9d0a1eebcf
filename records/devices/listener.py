"""The MLLP listener: bedside monitors connect, send ORU^R01 messages, and get an ACK for each.

One asyncio server holds every monitor's connection. Framing (MLLP: <VT> message
<FS><CR>) is read here with bounds on size and time, so that no input stops the
server: a frame without its start block, a frame cut by the next start block, a
message over the size limit (answered AR, and the connection kept in step), a
connection that goes quiet mid-message (closed after `frame_timeout`), one that
drops, or bytes that are not MLLP at all. The message itself is read with
python-hl7 (records.devices.pcd01). Database work runs on worker threads, one
writer on SQLite (one writer at a time there anyway), each closing its
connections when done.
"""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, close_old_connections, connection, connections

from records.devices import pcd01
from records.devices.pcd01 import CR, FS, VT, Header, MessageRefused, Problem

logger = logging.getLogger(__name__)

HEAD_BYTES = 4096  # what is kept of a refused frame, to answer it with its own MSH-10


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 256 * 1024
    # Between messages: monitors keep their connection open and send every few minutes.
    idle_timeout: float = 900.0
    # From a message's first byte to its end block.
    frame_timeout: float = 30.0
    write_timeout: float = 10.0
    max_connections: int = 256
    # An oversized message is read through to its end block (to answer it and stay in
    # step) up to this many bytes; past it the connection is closed.
    discard_limit: int = 64 * 1024 * 1024


@dataclass
class Frame:
    data: bytes = b""
    head: bytes = b""
    error: str = ""


class FramingError(Exception):
    """The stream cannot be read as MLLP any more: the connection is closed."""


class Framer:
    """Reads MLLP frames from one connection, within the limits."""

    def __init__(self, reader: asyncio.StreamReader, limits: Limits):
        self.reader, self.limits = reader, limits
        self.buf = bytearray()

    async def _fill(self, timeout: float) -> bool:
        chunk = await asyncio.wait_for(self.reader.read(65536), timeout)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _drop_cr(self) -> None:
        if self.buf[:1] == CR:
            del self.buf[:1]

    async def next(self) -> Frame | None:
        """The next frame, or None when the peer closed the connection between messages."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        # Up to the start block. Line ends and blanks between frames are not content.
        while True:
            while bytes(self.buf[:1]) in (b"\r", b"\n", b" ", b"\t"):
                del self.buf[:1]
            start, end = self.buf.find(VT), self.buf.find(FS)
            if end != -1 and (start == -1 or end < start):
                head = bytes(self.buf[: min(end, HEAD_BYTES)])
                del self.buf[: end + 1]
                self._drop_cr()
                return Frame(head=head, error="The message did not begin with the MLLP start block <VT> (0x0B).")
            if start != -1:
                del self.buf[: start + 1]
                break
            if len(self.buf) > self.limits.max_message_bytes:
                raise FramingError("more data than a message without any MLLP block characters")
            if self.buf and deadline is None:
                deadline = loop.time() + self.limits.frame_timeout
            timeout = self.limits.idle_timeout if deadline is None else deadline - loop.time()
            if timeout <= 0:
                raise TimeoutError
            if not await self._fill(timeout):
                if self.buf:
                    raise FramingError("connection closed in the middle of a message")
                return None
        # Inside the frame, up to the end block.
        deadline = deadline or loop.time() + self.limits.frame_timeout
        scanned, discarded, head = 0, 0, b""
        while True:
            end, restart = self.buf.find(FS, scanned), self.buf.find(VT, scanned)
            if restart != -1 and (end == -1 or restart < end):
                head = head or bytes(self.buf[: min(restart, HEAD_BYTES)])
                del self.buf[:restart]  # the new start block begins the next frame
                return Frame(head=head, error="The message ended without the MLLP end block <FS><CR>.")
            if end != -1:
                body = bytes(self.buf[:end])
                del self.buf[: end + 1]
                self._drop_cr()
                size = discarded + len(body)
                if discarded or size > self.limits.max_message_bytes:
                    return Frame(
                        head=head or body[:HEAD_BYTES],
                        error=f"Message of {size} bytes refused: the limit is {self.limits.max_message_bytes} bytes.",
                    )
                return Frame(data=body)
            if discarded or len(self.buf) > self.limits.max_message_bytes:
                # Too large: keep its head to answer it, skip the rest up to its end block.
                head = head or bytes(self.buf[:HEAD_BYTES])
                discarded += len(self.buf)
                self.buf.clear()
                scanned = 0
                if discarded > self.limits.discard_limit:
                    raise FramingError(f"message of more than {self.limits.discard_limit} bytes")
            else:
                scanned = len(self.buf)
            timeout = deadline - loop.time()
            if timeout <= 0:
                raise TimeoutError
            if not await self._fill(timeout):
                raise FramingError("connection closed in the middle of a message")


@dataclass
class Answer:
    code: str
    text: str
    ack: bytes
    header: Header | None = None
    problems: list[Problem] = field(default_factory=list)


def _header_or_none(raw: bytes) -> Header | None:
    try:
        return pcd01.read_header(raw)
    except MessageRefused:
        return None


def refuse(raw_head: bytes, reason: str, code: str = "AR", hl7_error: str = "207") -> Answer:
    header = _header_or_none(raw_head)
    problems = [Problem("message", reason, hl7_error, "E")]
    return Answer(code, reason, pcd01.ack(header, code, reason, problems), header, problems)


def process_message(raw: bytes, peer_ip: str | None) -> Answer:
    """Parse one message, keep its readings, and write the ACK. Runs on a worker thread."""
    from records.actions.context import ActionRefused, Actor
    from records.actions.devices import LISTENER, device_reading_receive

    close_old_connections()
    try:
        try:
            parsed = pcd01.parse(raw)
        except MessageRefused as exc:
            return refuse(raw[:HEAD_BYTES], exc.reason, exc.code, exc.hl7_error)
        actor = Actor(user=None, role="system", username=LISTENER, ip_address=peer_ip)
        problems, summaries = list(parsed.problems), []
        for group in parsed.groups:
            where = f"Reading at {group.measured_at:%Y-%m-%d %H:%M}"
            try:
                received = device_reading_receive(
                    actor=actor,
                    identities=[group.equipment_id, *parsed.header.identities],
                    measured_at=group.measured_at,
                    values=group.values,
                    message_control_id=parsed.header.control_id,
                )
            except ActionRefused as exc:
                problems.append(Problem(where, str(exc), "204"))
            except ValidationError as exc:
                problems.append(Problem(where, " ".join(exc.messages)))
            else:
                summaries.append(f"{where}: {received.summary}")
        refused = [p for p in problems if p.severity != "I"]
        if summaries:
            text = "; ".join(summaries)
            if refused:
                text += f"; {len(refused)} value{'s' if len(refused) != 1 else ''} not offered (see ERR)"
            code = "AA"
        else:
            code = "AE"
            text = str(refused[0]) if refused else "No vital sign this product charts is in the message."
        return Answer(code, text, pcd01.ack(parsed.header, code, text, problems), parsed.header, problems)
    except DatabaseError:
        logger.exception("Database error while storing a monitor message")
        return refuse(raw[:HEAD_BYTES], "Temporary error storing the message: send it again.")
    except Exception:
        logger.exception("Unexpected error while reading a monitor message")
        return refuse(raw[:HEAD_BYTES], "Internal error reading the message.")
    finally:
        connections.close_all()


class MonitorListener:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2575,
        limits: Limits | None = None,
        handler: Callable[[bytes, str | None], Answer] = process_message,
    ):
        self.host, self.port, self.limits, self.handler = host, port, limits or Limits(), handler
        # SQLite takes one writer at a time: more threads would only queue on its lock.
        workers = 1 if connection.vendor == "sqlite" else 4
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mllp-db")
        self.connections: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.messages = 0

    async def start(self) -> asyncio.Server:
        self.server = await asyncio.start_server(self._serve, self.host, self.port, limit=65536)
        for sock in self.server.sockets:
            self.port = sock.getsockname()[1]
            break
        return self.server

    async def serve_forever(self) -> None:
        server = await self.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        logger.info("Listening for monitors (MLLP) on %s:%s", self.host, self.port)
        async with server:
            await stop.wait()
            server.close()
            for task in list(self.connections):
                task.cancel()
            await asyncio.gather(*self.connections, return_exceptions=True)
        self.executor.shutdown(wait=True)
        logger.info("Monitor listener stopped after %s messages", self.messages)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer = writer.get_extra_info("peername")
        peer_ip = peer[0] if isinstance(peer, tuple) else None
        if len(self.connections) >= self.limits.max_connections:
            logger.warning("Refused a connection from %s: %s connections open", peer_ip, len(self.connections))
            writer.close()
            return
        if task is not None:
            self.connections.add(task)
        framer = Framer(reader, self.limits)
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await framer.next()
                if frame is None:
                    break
                if frame.error:
                    answer = refuse(frame.head, frame.error)
                else:
                    answer = await loop.run_in_executor(self.executor, self.handler, frame.data, peer_ip)
                self.messages += 1
                logger.info(
                    "%s MSH-10 %r: %s %s",
                    peer_ip,
                    answer.header.control_id if answer.header else "",
                    answer.code,
                    answer.text,
                )
                writer.write(VT + answer.ack + FS + CR)
                await asyncio.wait_for(writer.drain(), self.limits.write_timeout)
        except TimeoutError:
            logger.info("Closed a quiet connection from %s", peer_ip)
        except FramingError as exc:
            logger.warning("Closed the connection from %s: %s", peer_ip, exc)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            logger.info("Connection from %s dropped: %s", peer_ip, exc)
        except asyncio.CancelledError:
            pass
        finally:
            if task is not None:
                self.connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)
