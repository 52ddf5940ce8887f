"""What `/story book` says and attaches (bot/render.py)."""

from __future__ import annotations

from bot.book.film import Film
from bot.book.page import EmbeddedPage
from bot.book.service import Storybook
from bot.render import book_message

PAGE = EmbeddedPage(b"<!doctype html>", 1024, 0)
MIB = 1024 * 1024


def _book(film: Film | None, *, fits: bool, link: str | None = None) -> Storybook:
    animated = len(film.numbers) if film else 0
    return Storybook("The *Fox*", 3, PAGE, film, fits, animated, link)


def _names(message: dict[str, object]) -> list[str]:
    files = message["attachments"]
    assert isinstance(files, list)
    return [file.filename for file in files]


def test_a_film_that_fits_is_attached_next_to_the_page() -> None:
    message = book_message(_book(Film(b"m" * 100, (1, 3), (), 16.0), fits=True), 10 * MIB)
    assert _names(message) == ["storybook.html", "storybook.mp4"]
    assert "2 animated scenes, 16 s" in str(message["content"])
    assert "\\*Fox\\*" in str(message["content"])  # the title is not markdown


def test_a_film_over_the_limit_is_kept_and_the_answer_says_so_and_where() -> None:
    film = Film(b"m" * (12 * MIB), (1, 2), (3,), 16.0)
    message = book_message(_book(film, fits=False, link="https://b.example/book/1/2/s"), 10 * MIB)
    content = str(message["content"])
    assert _names(message) == ["storybook.html"]
    assert "(12.0 MiB) is larger than this server's upload limit (10.0 MiB)" in content
    assert "it is kept: it plays at the link" in content
    assert "https://b.example/book/1/2/s" in content
    assert "Not in the film (their videos have another format): scene 3." in content


def test_without_an_animated_scene_the_answer_says_how_to_make_a_film() -> None:
    content = str(book_message(_book(None, fits=False), 10 * MIB)["content"])
    assert "press **Animate** under a scene" in content
