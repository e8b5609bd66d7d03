"""Path converters: every id in a URL is one that a 64-bit primary key can hold."""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    """A row's id: up to 18 digits, so a longer one is a plain 404 on every database."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def register() -> None:
    """Make `<id:...>` available to the URL patterns (MediaspaceConfig.ready calls it)."""
    register_converter(IdConverter, "id")
