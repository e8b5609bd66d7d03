from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import idle_clock_start

        user_logged_in.connect(idle_clock_start, dispatch_uid="accounts.idle_clock_start")
