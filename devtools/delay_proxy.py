"""A TCP proxy in front of PostgreSQL that delays every chunk by a fixed time each way and counts round trips.

A database a few milliseconds away (Neon in another zone or region), simulated on one machine: each
chunk read from one side is written to the other `delay` seconds later, in order, so the latency of
an exchange grows by one round trip time per round trip while bandwidth stays unbounded.

It also counts round trips exactly: a round trip begins each time a client sends after the server has
spoken (or first). Messages a client pipelines before the server answers (asyncpg's Parse, Bind,
Execute, Sync in one write) are one round trip, as they cost one on the wire.
Runs on an event loop of its own, in a thread, so synchronous tests and the bench can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable

Opener = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
CHUNK = 64 * 1024


class Exchange:
    """One client connection: who spoke last, so a client's send after the server's answer is a new round trip."""

    def __init__(self, proxy: DelayProxy) -> None:
        self.proxy = proxy
        self.server_spoke = True  # the client's first send starts a round trip

    def client_sent(self) -> None:
        if self.server_spoke:
            self.server_spoke = False
            self.proxy.round_trips += 1

    def server_sent(self) -> None:
        self.server_spoke = True


class DelayProxy:
    """Listening on 127.0.0.1:port once started; forwards to a PostgreSQL Unix socket or TCP address."""

    def __init__(self, *, unix_socket: str | None = None, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.delay = 0.0  # seconds, each way; may change while running
        self.round_trips = 0  # since start, over every connection
        self.port = 0
        self._open: Opener = (
            (lambda: asyncio.open_unix_connection(unix_socket))
            if unix_socket is not None
            else (lambda: asyncio.open_connection(host, port))
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="delay-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> DelayProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            server_reader, server_writer = await self._open()
        except OSError:
            client_writer.close()
            self._tasks.discard(task)
            return
        exchange = Exchange(self)
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer, exchange.client_sent),
                self._pipe(server_reader, client_writer, exchange.server_sent),
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for writer in (client_writer, server_writer):
                writer.close()
            self._tasks.discard(task)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heard: Callable[[], None]
    ) -> None:
        """Copy reader to writer, each chunk `delay` seconds after it arrived, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        delivering = asyncio.create_task(deliver())
        try:
            while data := await reader.read(CHUNK):
                heard()
                queue.put_nowait((time.monotonic() + self.delay, data))
            queue.put_nowait((0.0, b""))
            await delivering
        finally:
            delivering.cancel()
