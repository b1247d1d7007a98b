"""The service document (``GET /sta/v1.1/``): the entity sets and the conformance
classes this service implements, exactly (clients and test suites switch on them)."""

from importlib.util import find_spec

from sensorgrid.sensorthings.schema import ENTITY_SETS

SPEC = "http://www.opengis.net/spec/iot_sensing/1.1/req/"

#: Always implemented: the sensing core, every query option, create/update/delete.
CORE = [
    SPEC + "datamodel",
    SPEC + "resource-path/resource-path-to-entities",
    SPEC + "request-data",
    SPEC + "create-update-delete/create-entity",
    SPEC + "create-update-delete/link-to-existing-entities",
    SPEC + "create-update-delete/deep-insert",
    SPEC + "create-update-delete/deep-insert-status-code",
    SPEC + "create-update-delete/update-entity",
    SPEC + "create-update-delete/update-entity-put",
    SPEC + "create-update-delete/delete-entity",
    SPEC + "create-update-delete/historical-location-auto-creation",
]

#: Optional classes, declared only when the module implementing them is installed.
OPTIONAL = {
    "sensorgrid.sensorthings.write.dataarray": [SPEC + "data-array/data-array"],
    # $batch in its two forms: FROST's extension is the JSON batch of OData 4.01; the
    # spec's class is OData 4.0's multipart/mixed batch (write/multipart.py, which runs
    # on the JSON form's executor, so it is declared only beside it).
    "sensorgrid.sensorthings.write.batch": [
        "https://fraunhoferiosb.github.io/FROST-Server/extensions/JsonBatchRequest.html",
    ],
    "sensorgrid.sensorthings.write.multipart": [SPEC + "batch-request/batch-request"],
}
JSON_PATCH = SPEC + "create-update-delete/update-entity-jsonpatch"


def has_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def has_json_patch() -> bool:
    if not has_module("sensorgrid.sensorthings.write"):
        return False
    from sensorgrid.sensorthings import write

    return hasattr(write, "apply_json_patch")


def conformance() -> list[str]:
    classes = list(CORE)
    if has_json_patch():
        classes.append(JSON_PATCH)
    for module, names in OPTIONAL.items():
        if has_module(module):
            classes.extend(names)
    return classes


def document(base: str) -> dict:
    """The service document; ``base`` is the absolute URL of ``/sta/v1.1/``."""
    from sensorgrid.sensorthings import mqtt

    extension = mqtt.server_settings(base)  # the MQTT extension, when it is served
    return {
        "value": [{"name": name, "url": f"{base}{name}"} for name in ENTITY_SETS],
        "serverSettings": {
            "conformance": conformance() + extension["conformance"],
            **extension["settings"],
        },
    }
