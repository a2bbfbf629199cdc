from __future__ import annotations

from accounts.models import User


def user_profile_update(*, user: User, name: str | None = None, image: str | None = None) -> User:
    changed = []
    if name is not None:
        user.name = name.strip()
        changed.append("name")
    if image is not None:
        user.image = image
        changed.append("image")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user
