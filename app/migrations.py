"""Alembic, driven from the application: upgrade, downgrade and the head/current revisions.

``migrations/`` (next to ``app/``) is the only way the schema is made. An installed wheel
carries ``alembic.ini`` and ``migrations/`` as data files (``<prefix>/share/assetlink``,
pyproject.toml), found through the distribution's file list.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

ROOT = Path(__file__).resolve().parent.parent


@lru_cache
def scripts_home() -> Path:
    """The folder holding ``alembic.ini`` and ``migrations/``: the checkout, or the wheel's."""
    if (ROOT / "alembic.ini").is_file():
        return ROOT
    try:
        files = metadata.files("assetlink") or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "alembic.ini" and file.parent.name == "assetlink":
            return Path(str(file.locate())).resolve().parent
    raise RuntimeError("alembic.ini and migrations/ are neither in the checkout nor installed")


def alembic_config(database_url: str | None = None) -> Config:
    home = scripts_home()
    config = Config(str(home / "alembic.ini"))
    config.set_main_option("script_location", str(home / "migrations"))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@lru_cache
def known_revisions() -> frozenset[str]:
    """This code's revisions; a schema at any other one was migrated by a newer release."""
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(r.revision for r in script.walk_revisions())


def is_behind(revision: str | None) -> bool:
    """Whether a schema at ``revision`` lacks this code's migrations (None: none applied).

    A revision this code does not know is ahead, not behind: during a rolling upgrade the new
    release migrates first and the old pods go on serving on the expanded schema
    (docs/deploy.md "Upgrades without downtime").
    """
    return revision != head_revision() and (revision is None or revision in known_revisions())


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
