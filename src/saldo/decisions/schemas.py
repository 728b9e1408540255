from __future__ import annotations

from pydantic import BaseModel, Field


class DecisionsStored(BaseModel):
    """What a decision file did: every record is new, an amendment, or unchanged."""

    records: int = Field(description="Decisions in the file.")
    new: int = Field(description="Decisions stored for the first time.")
    amended: int = Field(description="Decisions with a known reference and other content: replaced, version raised.")
    unchanged: int = Field(description="Decisions sent before exactly as they are.")
