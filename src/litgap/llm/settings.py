"""Where the model is (LITGAP_LLM_* settings) and what a job asks of it (`llm_review`).

The API key comes from `LITGAP_LLM_API_KEY` or from the file `LITGAP_LLM_API_KEY_FILE`
names. It lives only in this process's memory (a `SecretStr`, so no repr shows it) and in
the Authorization header of each request: it is never part of a job's config, a record,
a log line or an export.
"""

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from litgap.exceptions import LitgapError

ResponseFormat = Literal["json_schema", "json_object", "none"]


class LLMNotConfigured(LitgapError):
    """A model review is due but no server (or a bad setting) is configured."""


class LLMSettings(BaseSettings):
    """The chat-completions server the model reviewer calls (read by whoever runs jobs)."""

    model_config = SettingsConfigDict(env_prefix="LITGAP_LLM_", extra="ignore")

    # e.g. http://127.0.0.1:8080/v1 (llama.cpp), http://localhost:11434/v1 (Ollama),
    # https://api.openai.com/v1; requests go to {base_url}/chat/completions.
    base_url: str | None = None
    model: str | None = Field(default=None, max_length=200)
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    concurrency: int = Field(default=4, ge=1, le=64)
    # Per job: HTTP calls (every attempt counts), whatever the job's config asks.
    max_calls: int = Field(default=1000, ge=1, le=1_000_000)
    # Extra attempts after a 429, a 5xx, a timeout, a lost connection or a malformed answer.
    retries: int = Field(default=2, ge=0, le=10)
    # First pause before a retry, doubled each time (a 429's Retry-After wins, up to 30 s).
    retry_seconds: float = Field(default=1.0, ge=0, le=60)
    # How the answer is asked for as JSON: llama.cpp, vLLM, Ollama and OpenAI take a JSON
    # schema; "json_object" or "none" (the prompt alone asks for JSON) for older servers.
    response_format: ResponseFormat = "json_schema"

    @model_validator(mode="after")
    def _check(self) -> "LLMSettings":
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url: {self.base_url[:80]!r} is not an http:// or https:// URL")
        if self.api_key is not None and self.api_key_file is not None:
            raise ValueError("api_key and api_key_file are both set; set one of them")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)

    def key(self) -> str | None:
        """The API key, read from the file each time (a rotated key is picked up).
        Raises LLMNotConfigured naming the file when it cannot be read."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.api_key_file is None:
            return None
        try:
            return self.api_key_file.read_text(encoding="utf-8").strip() or None
        except OSError as err:
            raise LLMNotConfigured(
                f"LITGAP_LLM_API_KEY_FILE: cannot read {str(self.api_key_file)[:200]!r}: "
                f"{err.strerror}"
            ) from err


def read_settings() -> LLMSettings:
    """The LITGAP_LLM_* settings of this process. Raises LLMNotConfigured naming the key
    of a bad value."""
    try:
        return LLMSettings()
    except ValidationError as err:
        first = err.errors()[0]
        key = "_".join(str(p) for p in first["loc"]).upper()
        place = f"LITGAP_LLM_{key}" if key else "LITGAP_LLM_*"
        raise LLMNotConfigured(f"{place}: {first['msg']}") from None


class LLMReviewConfig(BaseModel):
    """A job's `llm_review`: which passages the model judges, and whether its verdicts
    count in the report (otherwise they are recorded only, for agreement and revisions)."""

    model_config = ConfigDict(extra="forbid")

    # "top": the best `top` passages of every sub-requirement; "borderline": of those,
    # only the ones whose score is within BORDERLINE_SCORE_BAND of SUPPORT_SCORE.
    passages: Literal["top", "borderline"] = "top"
    top: StrictInt = Field(default=3, ge=1, le=20)
    template: Literal["evidence-v1"] = "evidence-v1"
    counts: bool = Field(
        default=False, description="The model's verdicts change the report (as a reviewer's do)"
    )
    # At most this many calls for the job (the LITGAP_LLM_MAX_CALLS setting caps it).
    max_calls: StrictInt | None = Field(default=None, ge=1, le=1_000_000)
