"""Plaintext keys of rest_framework.authtoken become hashed tokens; the old table goes."""

import importlib

from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from sensorgrid.accounts.models import ApiToken

migration = importlib.import_module("sensorgrid.accounts.migrations.0002_hash_plaintext_tokens")
OLD_KEY = "0123456789abcdef0123456789abcdef01234567"


class Editor:
    """What the migration uses of a schema editor (SQLite's refuses a test transaction)."""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_old_keys_keep_working_hashed_and_the_plaintext_table_is_dropped(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, "
            "user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, CURRENT_TIMESTAMP, %s)",
            [OLD_KEY, world.alice.pk],
        )
    migration.hash_plaintext_tokens(apps, Editor())

    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (world.alice, "migrated", OLD_KEY[:10])
    assert OLD_KEY not in token.digest
    assert token.expires_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/v1/sites/").status_code == 200


def test_without_the_old_table_nothing_happens(world):
    migration.hash_plaintext_tokens(apps, Editor())
    assert not ApiToken.objects.exists()
