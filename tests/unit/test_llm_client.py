"""The chat-completions client and its settings, against the fixture server over real
HTTP: retries, the budget, the errors that stop a review, and the key kept out of sight."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from litgap.llm.client import (
    Budget,
    BudgetExhausted,
    ChatClient,
    LLMFailed,
    LLMRejected,
    LLMUnreachable,
)
from litgap.llm.settings import LLMNotConfigured, LLMSettings, read_settings
from litgap.llm.template import request_body
from tests.live import free_port
from tests.llm_server import ChatServer, chat_server

KEY = "sk-unit-SECRET-99"
SUB = {"id": "Sub-1", "text": "Roof yield", "requirement": "R1", "pillar": "P1"}
PASSAGE = {"evidence_id": "e1", "paper": "p.txt", "page": 1, "text": "Roofs yield water."}


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with chat_server(api_key=KEY) as server:
        yield server


def settings_for(url: str, **options: object) -> LLMSettings:
    values: dict[str, object] = {
        "base_url": url,
        "model": "m",
        "api_key": KEY,
        "retry_seconds": 0.0,
        "timeout_seconds": 2.0,
        **options,
    }
    return LLMSettings(**values)  # type: ignore[arg-type]


BODY = request_body("m", SUB, PASSAGE, "json_schema")


async def test_a_429_and_a_500_are_retried_and_each_attempt_costs_a_call(
    chat: ChatServer,
) -> None:
    chat.script = ["429", "500"]
    budget = Budget(10)
    async with ChatClient(settings_for(chat.url), budget) as client:
        answer = await client.complete(BODY)
    assert answer.attempts == 3 and budget.used == 3 and chat.calls == 3
    assert answer.model == "fixture-model-q4" and answer.prompt_tokens == 100
    assert chat.received[-1].raw == BODY  # the exact bytes that were hashed


async def test_failures_past_the_retries_fail_the_passage_with_the_last_reason(
    chat: ChatServer,
) -> None:
    chat.script = ["500", "500", "500"]
    async with ChatClient(settings_for(chat.url, retries=2), Budget(10)) as client:
        with pytest.raises(LLMFailed) as failed:
            await client.complete(BODY)
    assert failed.value.detail == "HTTP 500: internal error (after 3 attempts)"


async def test_a_slow_answer_times_out_and_is_retried(chat: ChatServer) -> None:
    chat.slow_seconds = 1.0
    chat.script = ["slow"]
    async with ChatClient(settings_for(chat.url, timeout_seconds=0.2), Budget(10)) as client:
        answer = await client.complete(BODY)
    assert answer.attempts == 2


async def test_a_wrong_key_stops_at_once_and_the_message_holds_no_key(chat: ChatServer) -> None:
    settings = settings_for(chat.url, api_key="sk-wrong-KEY-123")
    async with ChatClient(settings, Budget(10)) as client:
        with pytest.raises(LLMRejected) as rejected:
            await client.complete(BODY)
    assert chat.calls == 1
    assert rejected.value.detail == (
        f"the model server http://127.0.0.1:{chat.port} refused the API key (HTTP 401): "
        "check LITGAP_LLM_API_KEY or LITGAP_LLM_API_KEY_FILE"
    )
    assert "sk-wrong" not in repr(settings) and "sk-wrong" not in str(settings.model_dump())


async def test_a_wrong_url_is_said_with_the_servers_reason(chat: ChatServer) -> None:
    settings = settings_for(chat.url.removesuffix("/v1"))
    async with ChatClient(settings, Budget(10)) as client:
        with pytest.raises(LLMRejected) as rejected:
            await client.complete(BODY)
    assert rejected.value.detail == (
        f"the model server http://127.0.0.1:{chat.port} refused the request (HTTP 404): "
        "no route /chat/completions (check LITGAP_LLM_BASE_URL and LITGAP_LLM_MODEL)"
    )


async def test_an_unreachable_server_is_said_after_the_retries() -> None:
    port = free_port()
    settings = settings_for(f"http://user:pw@127.0.0.1:{port}/v1", retries=1)
    budget = Budget(10)
    async with ChatClient(settings, budget) as client:
        with pytest.raises(LLMUnreachable) as unreachable:
            await client.complete(BODY)
    assert unreachable.value.detail.startswith(
        f"the model server http://127.0.0.1:{port} is unreachable (ConnectError"
    )
    assert "pw" not in unreachable.value.detail and budget.used == 2


async def test_the_budget_refuses_the_call_past_it(chat: ChatServer) -> None:
    chat.script = ["500"]
    async with ChatClient(settings_for(chat.url), Budget(1)) as client:
        with pytest.raises(BudgetExhausted) as spent:
            await client.complete(BODY)
    assert spent.value.detail == "the job's budget of 1 model calls is spent"
    assert chat.calls == 1


def test_the_key_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(f"{KEY}\n")
    assert LLMSettings(api_key_file=path).key() == KEY
    path.unlink()
    with pytest.raises(LLMNotConfigured) as missing:
        LLMSettings(api_key_file=path).key()
    assert missing.value.detail == (
        f"LITGAP_LLM_API_KEY_FILE: cannot read {str(path)!r}: No such file or directory"
    )


def test_a_bad_setting_names_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITGAP_LLM_CONCURRENCY", "0")
    with pytest.raises(LLMNotConfigured) as bad:
        read_settings()
    assert bad.value.detail == "LITGAP_LLM_CONCURRENCY: Input should be greater than or equal to 1"
    monkeypatch.delenv("LITGAP_LLM_CONCURRENCY")
    monkeypatch.setenv("LITGAP_LLM_BASE_URL", "ftp://x")
    with pytest.raises(LLMNotConfigured) as bad:
        read_settings()
    assert bad.value.detail == (
        "LITGAP_LLM_*: Value error, base_url: 'ftp://x' is not an http:// or https:// URL"
    )


def test_no_server_configured_is_said() -> None:
    with pytest.raises(LLMNotConfigured) as missing:
        ChatClient(LLMSettings(), Budget(1))
    assert missing.value.detail == (
        "no model server configured: set LITGAP_LLM_BASE_URL and LITGAP_LLM_MODEL"
    )
