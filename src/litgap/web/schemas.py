"""Request and response shapes of the JSON API."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litgap.config import JobConfig


def upload_body(
    fields: dict[str, Any], json_schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its multipart form itself: `files`
    (one or more uploads, required) and `fields`; `json_schema`, when given, is a JSON
    body the route also takes."""
    content: dict[str, Any] = {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    **fields,
                },
                "required": ["files"],
            }
        }
    }
    if json_schema is not None:
        content["application/json"] = {"schema": json_schema}
    return {"requestBody": {"required": True, "content": content}}


class JobCreateSample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: bool = Field(description="Create the job from the bundled sample corpus and framework")
    config: JobConfig | None = None


class JobCreated(BaseModel):
    job_id: str
    status: str
    # Files uploaded twice (same sha256): left out unless config.keep_duplicates.
    duplicates: list[dict[str, Any]] = Field(default_factory=list)


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
