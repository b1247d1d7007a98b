from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "sensorgrid.inventory"
    verbose_name = "Inventory"
