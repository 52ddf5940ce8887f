"""Persistence: SQLite through aiosqlite and the media store on disk (SPEC §9)."""
