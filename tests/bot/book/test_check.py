"""`python -m bot check` reports the storybook web server's settings, never its secret."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_settings_and_check import run_bot

SECRET = "do-not-print-this-web-secret"


def _web_line(output: str) -> str:
    (line,) = [x for x in output.splitlines() if x.startswith("Storybook web server:")]
    return line


def test_check_says_the_web_server_is_off_without_a_base_url(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", WEB_SECRET=SECRET)
    assert "off (WEB_BASE_URL is not set)" in _web_line(result.stdout)


def test_check_says_why_the_web_server_cannot_start_without_a_secret(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", WEB_BASE_URL="https://books.example", WEB_PORT="8080")
    assert "WEB_SECRET is not set" in _web_line(result.stdout)


def test_check_reports_port_and_links_and_never_the_secret(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path,
        "check",
        WEB_BASE_URL="https://books.example/story",
        WEB_PORT="8080",
        WEB_SECRET=SECRET,
    )
    line = _web_line(result.stdout)
    assert "on, port 8080" in line
    assert "https://books.example/story/book/" in line
    assert SECRET not in result.stdout + result.stderr


def test_a_base_url_that_is_not_http_is_a_configuration_error(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", WEB_BASE_URL="books.example")
    assert result.returncode == 1
    assert "WEB_BASE_URL" in result.stderr
