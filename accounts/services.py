from __future__ import annotations

from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_ensure(
    *,
    username: str,
    display_name: str,
    email: str,
    password: str,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Return the user with this username, creating it with these details if it is new."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": display_name,
            "email": email,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.set_password(password)
        user.full_clean()
        user.save(update_fields=["password"])
    return user
