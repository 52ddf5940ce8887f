"""The gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME, dispatches.

Several sessions may be live at once, one per shard (`sharding.py`): a guild's events go only
to the session of its shard, events without a guild to shard 0's, as Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import WSMsgType, web

from tests.fakes.discord import payloads
from tests.fakes.discord.model import JSON
from tests.fakes.discord.sharding import UNSHARDED, Identify, Shard, ShardRules, shard_of
from tests.fakes.discord.state import State

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME = 0, 1, 2, 3, 4, 6
RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 7, 8, 9, 10, 11
GUILD_MESSAGES = 1 << 9
BUFFERED_EVENTS = 1000
TRACE = ['["gateway-stand-in",{"micros":0}]']


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...


class ZlibStream:
    """`compress=zlib-stream`: one deflate stream, each message ending in a sync flush."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


class ZstdStream:
    """`compress=zstd-stream` (what discord.py asks for when zstandard, of its `speed` extra,
    is installed): one zstd stream, each message a flushed block."""

    def __init__(self) -> None:
        import zstandard  # only for a client that asks for zstd

        self._flush = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        self._stream = zstandard.ZstdCompressor().compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._stream.compress(data) + self._stream.flush(self._flush)


COMPRESSORS: dict[str, type[ZlibStream] | type[ZstdStream]] = {
    "zlib-stream": ZlibStream,
    "zstd-stream": ZstdStream,
}


@dataclass(slots=True, eq=False)  # hashed by identity: kept in a set
class Connection:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    compressor: Compressor | None  # zlib-stream or zstd-stream, when the client asks for it
    path: str
    peer_port: int = 0  # the client's TCP port: which process holds the socket
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dropped: bool = False

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload)
        async with self.lock:
            if self.ws.closed:
                return
            try:
                if self.compressor is None:
                    await self.ws.send_str(text)
                else:
                    await self.ws.send_bytes(self.compressor.compress(text.encode()))
            except ConnectionError:
                pass  # the socket went away; a RESUME replays what was buffered


@dataclass(frozen=True, slots=True)
class Delivery:
    """A dispatched event: to which shard's session, over which client port (0: buffered)."""

    event: str
    ident: str | None  # the event's `id` (an interaction's, a message's)
    shard: Shard
    peer_port: int


@dataclass(slots=True)
class Session:
    id: str
    intents: int
    shard: Shard = UNSHARDED
    seq: int = 0
    events: list[JSON] = field(default_factory=list)
    connection: Connection | None = None
    ready: bool = False
    invalid: bool = False


class Gateway:
    def __init__(self, state: State, heartbeat_interval_ms: int, errors: list[BaseException]):
        self.state = state
        self.errors = errors
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.resume_url = ""
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None  # the latest identified or resumed
        self.rules = ShardRules()
        self.live: set[Connection] = set()
        self.deliveries: list[Delivery] = []
        self.connections = self.identifies = self.resumes = self.heartbeats = 0
        self.connection_paths: list[str] = []
        self.ready_delay = 0.0  # seconds between IDENTIFY and READY (a busy Discord is slow)

    @property
    def connected(self) -> bool:
        """A session is identified (READY and every GUILD_CREATE sent) and its socket is open."""
        current = self.current
        return bool(current and current.ready and not current.invalid and current.connection)

    @property
    def connected_shards(self) -> set[Shard]:
        """The shards with a session that is identified and has its socket open."""
        sessions = self.sessions.values()
        return {s.shard for s in sessions if s.ready and not s.invalid and s.connection}

    def session_for(self, guild_id: int | None) -> Session | None:
        """The session that gets a guild's events (None: an event of no guild, shard 0): of the
        newest session's shard count, the newest valid session of that guild's shard."""
        valid = [s for s in self.sessions.values() if not s.invalid]
        if not valid:
            return None
        count = valid[-1].shard[1]
        wanted = (0 if guild_id is None else shard_of(guild_id, count), count)
        return next((s for s in reversed(valid) if s.shard == wanted), None)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        stream = COMPRESSORS.get(request.query.get("compress", ""))
        peer = request.transport.get_extra_info("peername") if request.transport else None
        conn = Connection(
            ws,
            request.transport,
            stream() if stream else None,
            request.path,
            peer[1] if peer else 0,
        )
        self.connections += 1
        self.connection_paths.append(request.path)
        self.live.add(conn)
        session: Session | None = None
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": TRACE}
            await conn.send({"op": HELLO, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    session = await self._on_op(conn, session, json.loads(msg.data))
        except Exception as exc:
            self.errors.append(exc)
            raise
        finally:
            self.live.discard(conn)
            if session is not None and session.connection is conn:
                session.connection = None
                if not conn.dropped and ws.close_code in (1000, 1001):
                    session.invalid = True  # a clean close by the client ends the session
            self.state.watch.notify()
        return ws

    async def _on_op(self, conn: Connection, session: Session | None, msg: JSON) -> Session | None:
        op, data = msg.get("op"), msg.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            session = await self._identify(conn, session, data or {})
        elif op == RESUME:
            session = await self._resume(conn, data or {})
        elif session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(session, data or {})
        elif op not in (PRESENCE, VOICE):
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        self.state.watch.notify()
        return session

    async def _identify(
        self, conn: Connection, session: Session | None, data: JSON
    ) -> Session | None:
        if session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return session
        if data.get("token") != self.state.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return None
        judged = self._judge(data)
        if judged.refusal is not None:
            await self._refuse(conn, judged)
            return None
        session = Session(
            secrets.token_hex(16), int(data.get("intents") or 0), judged.shard, connection=conn
        )
        self.sessions[session.id] = session
        self.current = session
        self.identifies += 1
        if self.ready_delay:
            await asyncio.sleep(self.ready_delay)
        state = self.state
        shard_id, count = session.shard
        guilds = [g for g in state.guilds.values() if shard_of(g.id, count) == shard_id]
        ready = payloads.ready(
            bot=state.bot,
            app_id=state.application_id,
            guilds=guilds,
            session_id=session.id,
            resume_url=self.resume_url,
            shard=session.shard,
        )
        await self._send(session, "READY", ready)
        for guild in guilds:
            await self._send(session, "GUILD_CREATE", payloads.guild_create(guild))
        session.ready = True
        return session

    def _judge(self, data: JSON) -> Identify:
        live = [s.shard for s in self.sessions.values() if s.connection and not s.invalid]
        return self.rules.judge(data.get("shard"), live, self.state.guilds)

    async def _refuse(self, conn: Connection, judged: Identify) -> None:
        refusal = judged.refusal
        assert refusal is not None
        if refusal.close_code is None:  # the identify rate limit: not resumable, try again
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
        else:
            await conn.ws.close(code=refusal.close_code, message=refusal.reason.encode())

    async def _resume(self, conn: Connection, data: JSON) -> Session | None:
        if data.get("token") != self.state.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return None
        found = self.sessions.get(str(data.get("session_id")))
        if found is None or found.invalid:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        found.connection = conn
        self.resumes += 1
        seq = int(data.get("seq") or 0)
        for event in [e for e in found.events if e["s"] > seq]:
            await conn.send(event)
        await self._send(found, "RESUMED", {"_trace": TRACE})
        return found

    async def _members_chunk(self, session: Session, data: JSON) -> None:
        raw = data.get("guild_id")
        for guild_id in raw if isinstance(raw, list) else [raw]:
            guild = self.state.guilds.get(int(str(guild_id)))
            if guild is None:
                continue
            chunk = {
                "guild_id": str(guild.id),
                "members": [payloads.member(m) for m in guild.members.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
                "nonce": data.get("nonce"),
            }
            await self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.events.append(payload)
        del session.events[:-BUFFERED_EVENTS]
        if session.connection is not None:
            await session.connection.send(payload)

    async def dispatch(self, event: str, data: JSON) -> bool:
        """Send to the session of the event's guild's shard, or buffer it for its RESUME;
        False if there is none."""
        raw = data.get("guild_id")
        session = self.session_for(int(str(raw)) if raw else None)
        if session is None or session.invalid:
            return False
        if event.startswith("MESSAGE_") and not session.intents & GUILD_MESSAGES:
            return True
        port = session.connection.peer_port if session.connection else 0
        ident = data.get("id")
        self.deliveries.append(
            Delivery(event, None if ident is None else str(ident), session.shard, port)
        )
        await self._send(session, event, data)
        return True

    async def drop(self, code: int | None = None) -> None:
        """Cut the current connection: no close frame at all (None), or a close with `code`."""
        session = self.current
        conn = session.connection if session else None
        if session is None or conn is None:
            raise RuntimeError("no live gateway connection to drop")
        conn.dropped = True
        session.connection = None  # from here on, events are buffered for the RESUME
        if code is None:
            assert conn.transport is not None, "the connection has no transport to cut"
            conn.transport.abort()
        else:
            await conn.ws.close(code=code, message=b"Stand-in dropped the connection.")

    async def send_op(self, op: int, data: object = None) -> None:
        """A raw opcode to the current connection: RECONNECT, HEARTBEAT, INVALID_SESSION."""
        session = self.current
        if session is None or session.connection is None:
            raise RuntimeError("no live gateway connection")
        if op == INVALID_SESSION and data is False:
            session.invalid = True
        await session.connection.send({"op": op, "d": data, "s": None, "t": None})

    async def close(self) -> None:
        for conn in list(self.live):
            conn.dropped = True
            with contextlib.suppress(ConnectionError):
                await conn.ws.close(code=1001, message=b"Stand-in shutting down.")
