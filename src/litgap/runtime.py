"""Everything a process needs to run litgap, built once from the settings."""

from dataclasses import dataclass

import sqlalchemy as sa

from litgap.events import EventBus
from litgap.prompts import PromptBroker
from litgap.settings import Settings
from litgap.store.database import open_database
from litgap.store.documents import DocumentWriter
from litgap.workspace import Workspace


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    workspace: Workspace
    docs: DocumentWriter
    events: EventBus
    broker: PromptBroker

    def close(self) -> None:
        self.docs.close()
        self.engine.dispose()


def open_runtime(settings: Settings, *, durable: bool = True) -> Runtime:
    workspace = Workspace(settings.workspace)
    workspace.jobs_dir.mkdir(parents=True, exist_ok=True)
    engine = open_database(settings.db_url)
    docs = DocumentWriter(engine, workspace, durable=durable)
    events = EventBus()
    broker = PromptBroker(engine, docs, events, settings)
    return Runtime(settings, engine, workspace, docs, events, broker)
