from django.db.models.signals import pre_delete
from django.dispatch import receiver

from sensorgrid.inventory.models import Node, Quantity


@receiver(pre_delete, sender=Node)
@receiver(pre_delete, sender=Quantity)
def delete_time_series(sender, instance, **kwargs):
    """Remove the rows that point at a deleted node or quantity (no FK cascades there)."""
    from sensorgrid.telemetry.models import Latest, Rollup, Sample

    field = "node" if sender is Node else "quantity"
    for model in (Sample, Rollup, Latest):
        model.objects.filter(**{field: instance.pk})._raw_delete(model.objects.db)
