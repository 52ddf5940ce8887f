"""Entry point: `python -m bot` runs the bot, `python -m bot check` validates configuration."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.lineup import Lineup
from bot.logs import configure_logging
from bot.settings import Settings
from bot.tiers import TierTable, load_tiers
from providers.config_file import ConfigFileError
from providers.models_file import load_catalog
from providers.registry import Catalog, Clock, utc_now

SETUP_HINT = "DISCORD_TOKEN is not set: copy .env.example to .env and put your bot token in it."


class ConfigError(Exception):
    """Configuration that cannot run; the message is one line for the operator."""


def load_configuration(clock: Clock = utc_now) -> tuple[Settings, Catalog, TierTable]:
    """Settings, catalog and tiers, or one ConfigError line; a retired model without a live
    successor stops here (start-up and `check` alike), by the date of `clock`."""
    try:
        settings = Settings()
        catalog = load_catalog(settings.models_file, clock)
        catalog.validate_today()
        tiers = TierTable(load_tiers(settings.tiers_file, catalog), settings.default_tier)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
    except (ConfigFileError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc
    return settings, catalog, tiers


def usable_data_dir(path: Path) -> None:
    """Fail at start, in one line, on a DATA_DIR that cannot be written (read-only, a file)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"DATA_DIR {path} is not writable: {exc.strerror or exc}") from exc


def _check(settings: Settings, catalog: Catalog, tiers: TierTable, *, live: bool) -> int:
    from bot.check import report  # with what it reads (asyncpg's URL rules), only for `check`

    lineup = Lineup(catalog, settings.keyed_providers())
    print("\n".join(report(settings, lineup, tiers)))
    healthy = True
    if live:
        from bot.live_check import check_live  # SDK clients are built only when asked

        lines, healthy = asyncio.run(check_live(settings, lineup, tiers))
        print("\n".join(lines))
    return 0 if settings.discord_token and healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="StoryBot")
    parser.add_argument("command", nargs="?", choices=["run", "check"], default="run")
    parser.add_argument(
        "--live", action="store_true", help="check: ask each keyed provider which models it serves"
    )
    args = parser.parse_args(argv)
    try:
        settings, catalog, tiers = load_configuration()
        if args.command == "check":
            return _check(settings, catalog, tiers, live=args.live)
    except (ConfigError, PermissionError) as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 1
    if settings.discord_token is None:
        print(SETUP_HINT, file=sys.stderr)
        return 2
    try:
        usable_data_dir(settings.data_dir)
    except ConfigError as exc:
        print(f"Not started: {exc}.", file=sys.stderr)
        return 1
    configure_logging(settings.log_level, settings.secrets())
    from bot.app import run  # the Discord layer is imported only to run it

    return run(settings, catalog, tiers)


if __name__ == "__main__":
    sys.exit(main())
