"""A customer's text fields and their limits, once: the API's create body and the import's row
both derive from it, so a limit changes in one place."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CustomerText(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    short_name: str | None = Field(default=None, max_length=100)
    credit_code: str | None = Field(default=None, max_length=30)
    industry: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    district: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=200)
    remarks: str | None = Field(default=None, max_length=5000)
