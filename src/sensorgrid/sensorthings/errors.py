"""The one exception every part of the SensorThings API raises for a refused request."""


class StaError(Exception):
    """A request the endpoint refuses: ``status`` (400, 403, 404, 409…) and a message
    that says what was wrong, rendered as ``{"code": status, "type": "error",
    "message": message}`` like FROST-Server's error bodies."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(entity: str, key: object) -> StaError:
    """A missing entity and another organization's one get this same answer."""
    return StaError(404, f"No {entity} with id {key}.")


def bad_request(message: str) -> StaError:
    return StaError(400, message)
