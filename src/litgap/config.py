"""A job's configuration: the decisions that may be preset, and the loop's limits."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from litgap.settings import check_timeouts

RunMode = Literal["ONCE", "DEEP_LOOP"]


class JobConfig(BaseModel):
    """What a user may set when creating a job. A preset decision is not asked."""

    model_config = ConfigDict(extra="forbid")

    pillar_selections: list[str] | str | None = Field(
        default=None, description='Preset pillar selection: "ALL", "DEEP", "NONE" or pillar names'
    )
    run_mode: RunMode | None = None
    max_iterations: int = Field(default=5, ge=1, le=50)
    convergence_threshold: float = Field(default=5.0, ge=0, le=100)
    prompt_timeouts: dict[str, int] = Field(default_factory=dict)
    continue_decisions: list[Literal["yes", "no"]] = Field(default_factory=list, max_length=50)

    @field_validator("prompt_timeouts")
    @classmethod
    def _check_timeouts(cls, value: dict[str, int]) -> dict[str, int]:
        return check_timeouts(value)

    @field_validator("pillar_selections")
    @classmethod
    def _check_selection(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("choose at least one pillar")
            if len(set(value)) != len(value):
                raise ValueError("a pillar is chosen twice")
        return value


class ReplayAnswer(BaseModel):
    """A recorded answer that a replay gives again, when the prompt matches."""

    type: str
    occurrence: int
    fingerprint: str
    response: Any
    prompt_id: str
    overridden: bool = False


class StoredConfig(JobConfig):
    """What the store keeps: the user's config plus the replay plan (set by replay only)."""

    replay_answers: list[ReplayAnswer] = Field(default_factory=list)
