"""Twilio's JSON error bodies."""

from __future__ import annotations

import json


class ApiError(Exception):
    """An error answered as ``{"code", "message", "more_info", "status"}``."""

    def __init__(self, status: int, code: int, message: str, headers: dict | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> bytes:
        return error_body(self.status, self.code, self.message)


def error_body(status: int, code: int, message: str) -> bytes:
    return json.dumps(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    ).encode()


def not_found(path: str) -> ApiError:
    return ApiError(404, 20404, f"The requested resource {path} was not found")


def unauthorized() -> ApiError:
    return ApiError(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})


def forbidden() -> ApiError:
    return ApiError(403, 20403, "Forbidden")


def bad_request(code: int, message: str) -> ApiError:
    return ApiError(400, code, message)


# HTTP status -> (Twilio code, message) for injected transient faults
TRANSIENT = {
    429: (20429, "Too many requests"),
    500: (20500, "Internal Server Error"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
    504: (20504, "Gateway Timeout"),
}
