from __future__ import annotations

from django.apps import AppConfig


class MediaspaceConfig(AppConfig):
    name = "mediaspace"
    verbose_name = "Media"

    def ready(self) -> None:
        from mediaspace import checks, converters

        converters.register()
        del checks  # registered on import
