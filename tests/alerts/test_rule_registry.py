"""Rule kinds live in the shared Registry: subclassing ``Kind`` with a key registers a kind."""

import pytest
from django.core.exceptions import ValidationError

from sensorgrid.alerts import rules
from sensorgrid.alerts.models import AlertRule, RuleKind
from sensorgrid.alerts.rules.base import REGISTRY, Kind


def test_every_kind_a_rule_can_choose_is_registered_and_no_other():
    assert rules.available() == sorted(RuleKind.values)


def test_an_unknown_kind_is_refused_naming_the_known_ones():
    with pytest.raises(
        KeyError, match="no rule kind 'flood'; known: anomaly, image_outlier, no_data"
    ):
        rules.get("flood")


def test_a_second_kind_with_a_taken_key_is_refused():
    with pytest.raises(ValueError, match="two rule kinds claim the key 'threshold'"):

        class Copy(Kind):
            key = "threshold"


def test_a_subclass_is_a_kind_as_soon_as_it_has_a_key():
    class Shared(Kind):  # a base for several kinds, without a key of its own
        pass

    class Always(Shared):
        key = "test_always"

        def validate(self, params: dict) -> dict:
            return {}

    try:
        assert "test_always" in rules.available()
        assert isinstance(rules.get("test_always"), Always)
        assert not any(type(kind) is Shared for kind in REGISTRY.items())
    finally:
        REGISTRY.remove("test_always")


@pytest.mark.django_db
def test_a_rule_of_an_unregistered_kind_does_not_validate(world):
    rule = AlertRule(organization=world.org_a, name="x", kind="flood", params={})
    with pytest.raises(ValidationError, match="Unknown kind 'flood'"):
        rule.clean()
