"""/api/prompts: what is waiting for an answer, and answering it."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from litgap.ids import validate_job_id
from litgap.status import PromptSource
from litgap.web.deps import CurrentUser, OperatorUser, RuntimeDep
from litgap.web.schemas import PendingList, RespondBody

router = APIRouter(prefix="/api/prompts", tags=["prompts"])


@router.get("", response_model=PendingList)
async def list_prompts(
    rt: RuntimeDep,
    user: CurrentUser,
    status: Annotated[str, Query(pattern="^pending$")] = "pending",
    job_id: Annotated[str | None, Query(max_length=40)] = None,
) -> PendingList:
    """Prompts waiting for an answer, oldest first, with their deadlines."""
    if job_id is not None:
        validate_job_id(job_id)
    return PendingList(prompts=rt.broker.pending(job_id))


@router.post("/{prompt_id}/respond")
async def respond(
    prompt_id: str, body: RespondBody, rt: RuntimeDep, user: OperatorUser
) -> dict[str, Any]:
    """Answer a pending prompt. 404 unknown prompt, 409 already resolved, 422 not allowed.
    The durable commit is awaited, not run here: it holds up neither the event loop
    nor a thread."""
    return await rt.broker.answer_async(
        prompt_id, body.response, source=PromptSource.USER, answered_by=user.name, note=body.note
    )
