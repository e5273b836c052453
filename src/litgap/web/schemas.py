"""Request and response shapes of the JSON API."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litgap.config import JobConfig


class JobCreateSample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: bool = Field(description="Create the job from the bundled sample corpus and framework")
    config: JobConfig | None = None


class JobCreated(BaseModel):
    job_id: str
    status: str


class Accepted(BaseModel):
    job_id: str
    status: str


class RespondBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: Any = Field(
        description="One of the prompt's options, a list of options for a multi-select, or text"
    )
    note: str | None = Field(default=None, description="Why this answer (kept in the record)")


class JobList(BaseModel):
    jobs: list[dict[str, Any]]
    next_cursor: str | None


class PendingList(BaseModel):
    prompts: list[dict[str, Any]]
