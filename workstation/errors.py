"""The one exception hierarchy of the workstation; screens and the CLI translate it.

Every error carries a message key and parameters, never a finished sentence, so that the
operator reads it in their own language (see ``workstation.i18n``)::

    WorkstationError
     ├── ConfigError            a setting is wrong; the program cannot start
     ├── InvalidInput           bad input from an operator; nothing was changed
     │    └── CatalogError      a catalog file is broken (file, field, reason)
     ├── NotFound               no such applicant, matter, application, task or operator
     ├── AuthenticationFailed   wrong operator or password
     ├── PermissionDenied       the operator's role or department does not allow the action
     ├── Conflict               the action no longer fits the state (already decided by …)
     └── IntegrityFailure       the signed log does not verify, or projections differ
"""

from __future__ import annotations

from typing import Any


class WorkstationError(Exception):
    """Base of every error the services raise on purpose."""

    key: str = "error.unexpected"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)

    def message(self, language: str) -> str:
        """The error as one sentence in the operator's language."""
        from workstation.i18n import translate

        return translate(self.key, language, **self.shown())

    def shown(self) -> dict[str, Any]:
        """The params as the message shows them."""
        return self.params


class ConfigError(WorkstationError):
    """A setting is missing or malformed."""

    key = "error.config"


class InvalidInput(WorkstationError):
    """The operator's input is not acceptable; nothing was changed."""

    key = "error.invalid_input"


class CatalogError(InvalidInput):
    """A catalog file is broken; params name the file, the field and the reason."""

    key = "error.catalog"


class NotFound(WorkstationError):
    """The thing asked for does not exist."""

    key = "error.not_found"


class AuthenticationFailed(WorkstationError):
    """Wrong operator name or password (deliberately not saying which)."""

    key = "error.auth"


class AccountLocked(AuthenticationFailed):
    """Too many wrong passwords in a row: this name may try again at ``until``."""

    key = "error.auth_locked"


class PermissionDenied(WorkstationError):
    """The operator may not do this (invariant 5)."""

    key = "error.denied"


class Conflict(WorkstationError):
    """The state changed under the operator, or the action does not fit the state."""

    key = "error.conflict"


class IntegrityFailure(WorkstationError):
    """The signed log or the projections are not what they should be."""

    key = "error.integrity"


class SyncRefused(IntegrityFailure):
    """A sync batch or bundle failed a check; nothing of it was applied. Params say where."""

    key = "error.sync.refused"

    def shown(self) -> dict[str, Any]:
        """An event's place counted from 1, as a bundle's records are (``params["index"]``
        stays its position in the batch, from 0)."""
        index = self.params.get("index")
        return self.params | {"index": index + 1} if type(index) is int else self.params


class DocumentRefused(IntegrityFailure):
    """A printed document is not genuine or not unchanged; the key says why."""

    key = "error.doc.refused"


class StorageFull(WorkstationError):
    """The disk (or the database's size limit) is full: the action was not saved at all."""

    key = "error.storage_full"
