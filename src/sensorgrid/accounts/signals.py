"""A changed password or a deactivated account ends every API token of the user.

Django marks a password change by leaving the new raw password in ``_password`` until
the save is done (hash upgrades on login clear it first), the same signal its own
``password_changed`` hook uses. Writes that bypass ``save()`` (``QuerySet.update``) are
not seen: use ``set_password`` and ``save`` (the admin, forms and commands do).
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from sensorgrid.accounts.models import ApiToken


def revoke_tokens_on_password_change_or_deactivation(sender, instance, created, **kwargs):
    if created:
        return
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        ApiToken.objects.revoke_all(instance)


def connect() -> None:
    post_save.connect(
        revoke_tokens_on_password_change_or_deactivation,
        sender=get_user_model(),
        dispatch_uid="accounts-revoke-tokens",
    )
