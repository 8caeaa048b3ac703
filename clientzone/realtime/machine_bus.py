"""Events between the processes of one machine that share an SQLite file.

SQLite already ties every process of a deployment to one machine, so they need
no broker to hear each other: each process that subscribes binds a UNIX
datagram socket in a private folder named after the database file, and
publishing delivers to this process's own subscribers and sends one datagram
to every other socket in that folder. Nothing waits: a datagram that does not
fit in a receiver's buffer is dropped (messages are hints, see events.py), and
the socket of a process that is gone is removed by the first publisher that
finds it dead. A process looks for its own socket every `recheck_seconds` and
binds a new one if something (a cleaner of the temporary folder) removed it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from clientzone.realtime.events import QUEUE_SIZE, EventBusUnavailable, FanOut

logger = logging.getLogger("clientzone.events")

_SEPARATOR = b"\0"
_RECEIVE_BUFFER = 1 << 20
_LONGEST_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux
_SUFFIX = ".sock"


def events_folder(database_file: str) -> Path | None:
    """Where the processes using this SQLite file meet, or None when they
    cannot (an in-memory database, or no UNIX sockets here)."""
    if not hasattr(socket, "AF_UNIX") or database_file in ("", ":memory:"):
        return None
    key = hashlib.sha256(str(Path(database_file).resolve()).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"clientzone-events-{os.getuid()}-{key}"
    if len(str(folder)) + 30 > _LONGEST_SOCKET_PATH:
        logger.warning("events stay in-process: the temporary folder's path is too long")
        return None
    return folder


class MachineEventBus(FanOut):
    """Several server processes (and `clientzone` commands) on one SQLite file."""

    crosses_processes = True

    def __init__(
        self, folder: Path, *, queue_size: int = QUEUE_SIZE, recheck_seconds: float = 30.0
    ) -> None:
        super().__init__(queue_size)
        self.folder = folder
        self.recheck_seconds = recheck_seconds
        self._listening: socket.socket | None = None
        self._path: Path | None = None
        self._sender: socket.socket | None = None
        self._recheck: asyncio.TimerHandle | None = None

    async def publish(self, channel: str, message: str) -> None:
        if not self._publishable(channel, message):
            return
        self._deliver(channel, message)
        datagram = channel.encode() + _SEPARATOR + message.encode()
        try:
            peers = [p for p in os.scandir(self.folder) if p.name.endswith(_SUFFIX)]
        except FileNotFoundError:
            return  # nobody has subscribed yet
        except OSError as error:
            logger.warning("event not sent to other processes (%r)", error)
            return
        for peer in peers:
            if self._path is not None and peer.path == str(self._path):
                continue
            self._send(peer.path, datagram)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        inbox = self._attach(channel)
        try:
            self._listen()
            yield inbox
        finally:
            self._detach(channel, inbox)

    async def close(self) -> None:
        self._close_inboxes()
        self._stop_listening()
        if self._sender is not None:
            self._sender.close()
            self._sender = None

    def _send(self, path: str, datagram: bytes) -> None:
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        try:
            self._sender.sendto(datagram, path)
        except (ConnectionRefusedError, FileNotFoundError):
            with suppress(FileNotFoundError):  # its process is gone
                os.unlink(path)
        except BlockingIOError:
            logger.warning("a process is not keeping up with events; one was dropped for it")
        except OSError as error:
            logger.warning("event not sent to another process (%r)", error)

    def _listen(self) -> None:
        """Bind this process's socket (once) and read it from the event loop."""
        if self._listening is not None:
            return
        listening = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            listening.setblocking(False)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
            try:
                path = self._bind(listening)
            except FileNotFoundError:  # the last process out just removed the folder
                path = self._bind(listening)
        except OSError as error:
            listening.close()
            logger.error("events cannot reach this process from others (%r)", error)
            raise EventBusUnavailable(str(error)) from error
        loop = asyncio.get_running_loop()
        loop.add_reader(listening.fileno(), self._receive)
        self._listening, self._path = listening, path
        self._recheck = loop.call_later(self.recheck_seconds, self._check_socket)

    def _bind(self, listening: socket.socket) -> Path:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        folder = self.folder.lstat()  # a symbolic link is refused too
        if folder.st_uid != os.getuid() or folder.st_mode & 0o077:
            raise PermissionError(f"{self.folder} is not this user's private folder")
        path = self.folder / f"{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}"
        listening.bind(str(path))
        return path

    def _stop_listening(self) -> None:
        if self._recheck is not None:
            self._recheck.cancel()
            self._recheck = None
        if self._listening is not None:
            with suppress(RuntimeError):  # the loop is already closed
                asyncio.get_running_loop().remove_reader(self._listening.fileno())
            self._listening.close()
            self._listening = None
        if self._path is not None:
            with suppress(FileNotFoundError):
                self._path.unlink()
            with suppress(OSError):  # others still there
                self.folder.rmdir()
            self._path = None

    def _check_socket(self) -> None:
        """Bind again when this process's socket file has been removed."""
        self._recheck = None
        if self._closed or self._path is None:
            return
        if self._path.exists():
            loop = asyncio.get_running_loop()
            self._recheck = loop.call_later(self.recheck_seconds, self._check_socket)
            return
        logger.warning("this process's event socket was removed; binding a new one")
        self._stop_listening()
        with suppress(EventBusUnavailable):  # logged; the next subscribe tries again
            self._listen()

    def _receive(self) -> None:
        assert self._listening is not None
        while True:
            try:
                datagram = self._listening.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                logger.warning("event socket read failed (%r)", error)
                return
            channel, separator, message = datagram.partition(_SEPARATOR)
            if not separator:
                continue
            with suppress(UnicodeDecodeError):
                self._deliver(channel.decode(), message.decode())
