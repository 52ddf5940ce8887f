"""Signed storybook URLs: HMAC-SHA256 with WEB_SECRET over what the URL opens (guild, story and,
for media, scene and kind), so a link opens its own story only and nothing can be guessed."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_CHARS = 32  # 128 bits of the SHA-256 MAC


class Links:
    """Builds and checks the signed paths the web server answers."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = secret.encode()

    def sign(self, *parts: object) -> str:
        message = "\x1f".join(str(part) for part in parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]

    def valid(self, signature: str, *parts: object) -> bool:
        return hmac.compare_digest(signature.encode(), self.sign(*parts).encode())

    def page(self, guild_id: int, story_id: int) -> str:
        """The page's full URL, for members."""
        return f"{self.base_url}/book/{guild_id}/{story_id}/{self.sign('page', guild_id, story_id)}"

    def media(self, guild_id: int, story_id: int, scene_id: int, kind: str) -> str:
        """A scene's picture or video."""
        signature = self.sign(kind, guild_id, story_id, scene_id)
        return f"{self.base_url}/media/{guild_id}/{story_id}/{scene_id}/{kind}/{signature}"

    def film(self, guild_id: int, story_id: int) -> str:
        """The story's film."""
        signature = self.sign("film", guild_id, story_id)
        return f"{self.base_url}/film/{guild_id}/{story_id}/{signature}.mp4"
