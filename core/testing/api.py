"""Calling the JSON API in tests as a program does: one personal access token per person."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


class PersonalApi:
    """``api.post("zhang", "/api/v1/…", body)``: calls with that person's token and JSON bodies,
    answers in Chinese; ``status`` is checked by WebTest."""

    def __init__(self, app: Any, tokens: dict[str, str]) -> None:
        self.app, self.tokens = app, tokens

    def _headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", "Accept-Language": "zh-CN"}

    def get(self, who: str, url: str, status: int = 200) -> Any:
        return self.app.get(url, headers=self._headers(who), status=status)

    def post(self, who: str, url: str, body: Any, status: int = 200) -> Any:
        return self.app.post_json(url, body, headers=self._headers(who), status=status)

    def patch(self, who: str, url: str, body: Any, status: int = 200) -> Any:
        return self.app.patch_json(url, body, headers=self._headers(who), status=status)

    def delete(self, who: str, url: str, status: int = 204) -> Any:
        return self.app.delete(url, headers=self._headers(who), status=status)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The RFC 9457 problem of a refused call, checked: its status, its code, a translated detail."""
    assert response.status_int == status
    assert response.content_type == PROBLEM
    body: dict[str, Any] = response.json
    assert body["code"] == code, body
    assert body["detail"] and "${" not in body["detail"]
    return body
