"""Open WebSockets follow permission changes (docs/dashboard.md, "Permission changes").

Every authenticated connection joins its user's group (``live.user.<id>``). When a
membership of that user is created, changed or deleted, the user is saved (deactivated,
password changed, superuser flag) or deleted, or one of their sessions signs out, a
``live.permissions`` message goes to that group once the transaction commits; each of
the user's connections then checks again what it may see (``LiveConsumer.recheck``).
Changes that send no signal (``QuerySet.update``, an expired session, another process
on the in-memory layer) are caught by the periodic re-check instead.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
    user_logged_out,
)
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.crypto import constant_time_compare

from sensorgrid.live.publish import publisher


def notify(user_ids, session: str | None = None) -> None:
    """Tell the open connections of these users to check their permissions again."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return

    def send() -> None:
        if publisher.enabled():
            publisher.offer_notices(ids, session)

    # After the commit: a connection re-checking earlier would still see the old rows.
    transaction.on_commit(send)


def session_user(session_key: str | None):
    """The active user a session still authenticates, or None.

    As ``django.contrib.auth.get_user`` decides it, without its side effects (it would
    flush or re-key the browser's session): the session exists and has not expired, the
    backend still returns the user (ModelBackend: only while active), and the session
    hash still matches (a password change ends the session).
    """
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    backend_path = store.get(BACKEND_SESSION_KEY)
    user_id = store.get(SESSION_KEY)
    if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(get_user_model()._meta.pk.to_python(user_id))
    if user is None or not user.is_active:
        return None
    session_hash = store.get(HASH_SESSION_KEY)
    if not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, h) for h in hashes):
        return None
    return user


# -- signal receivers (connected in LiveConfig.ready) ----------------------------------


def membership_before_save(sender, instance, raw=False, **kwargs) -> None:
    # A membership handed to another user takes visibility from the previous one too.
    instance._live_previous_user_id = (
        sender.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
        if instance.pk is not None and not raw
        else None
    )


def membership_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        notify([instance.user_id, getattr(instance, "_live_previous_user_id", None)])


def membership_deleted(sender, instance, **kwargs) -> None:
    notify([instance.user_id])


def user_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    # Every sign-in saves last_login: that changes nobody's permissions.
    if created or raw or (update_fields is not None and set(update_fields) == {"last_login"}):
        return
    notify([instance.pk])


def user_deleted(sender, instance, **kwargs) -> None:
    notify([instance.pk])


def signed_out(sender, request, user, **kwargs) -> None:
    # Sent before the session is flushed: its key still names the connections to close.
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if user is not None and key:
        notify([user.pk], session=key)


def connect_receivers() -> None:
    from sensorgrid.tenancy.models import Membership

    user = get_user_model()
    pre_save.connect(membership_before_save, Membership, dispatch_uid="live-membership-pre")
    post_save.connect(membership_saved, Membership, dispatch_uid="live-membership-saved")
    post_delete.connect(membership_deleted, Membership, dispatch_uid="live-membership-deleted")
    post_save.connect(user_saved, user, dispatch_uid="live-user-saved")
    post_delete.connect(user_deleted, user, dispatch_uid="live-user-deleted")
    user_logged_out.connect(signed_out, dispatch_uid="live-signed-out")
