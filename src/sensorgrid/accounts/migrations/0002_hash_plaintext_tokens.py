"""Move the plaintext keys of rest_framework.authtoken into hashed tokens, then drop them.

Clients keep their keys: each old key becomes a token named "migrated" that expires
SENSORGRID_TOKEN_TTL_DAYS from now. The old table (and its migration records, so that
the app could be installed again cleanly) is removed: no key stays readable at rest.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"
SHOWN_CHARACTERS = 10


def hash_plaintext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    days = settings.SENSORGRID_TOKEN_TTL_DAYS
    expires_at = timezone.now() + timedelta(days=days) if days > 0 else None
    with connection.cursor() as cursor:
        key = connection.ops.quote_name("key")
        cursor.execute(f"SELECT {key}, user_id FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="migrated",
            prefix=key[:SHOWN_CHARACTERS],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            expires_at=expires_at,
        )
        for key, user_id in rows
    )
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_api_tokens")]

    operations = [
        migrations.RunPython(hash_plaintext_tokens, migrations.RunPython.noop, elidable=True)
    ]
