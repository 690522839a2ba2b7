"""The migration off the gateway and the password logins, as settings (docs/tenant-isolation.md, Migration).

Two settings drive it, so that every deploy keeps the running tasks *and* the ECS rollback target (the previous
task definition) working:

* `database.legacy_password_logins: keep`: `migrator`, `app_backend_rw`, `app_backend_ro` keep their passwords,
  secrets and proxy entries, and every task definition keeps its password URLs beside the IAM env;
* `legacy_password_logins: retire`: those logins are IAM-only, no task definition references a secret, but the
  secrets still exist, since the previous task definition (the rollback target) references them and ECS cannot
  read a secret pending deletion;
* `tenant_defaults.legacy_gateway`: the former gateway login exists (role, secret, proxy entry).

Unset, the secrets are deleted: by then neither task definition references them.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.database_objects import BACKEND_RO, BACKEND_RW, MIGRATOR
from components.postgres import AppLogin
from components.tenant_gateway import GATEWAY
from stacks.settings import StackSettings

APP_PASSWORD_LOGINS = (AppLogin(MIGRATOR, read_only=False), AppLogin(BACKEND_RW, read_only=False),
                       AppLogin(BACKEND_RO, read_only=True))
"""The app's logins as the password layout declared them (same resource names, so `keep` changes nothing)."""
URL_SECRETS = {"DATABASE_URL": BACKEND_RW, "DATABASE_READ_URL": BACKEND_RO, "DATABASE_TENANT_URL": GATEWAY}
"""The service's password-URL env (`keep` only) -> the login whose secret holds it."""


@dataclass(frozen=True)
class MigrationPhase:
    """What the stack's migration settings keep."""

    secrets: tuple[AppLogin, ...]
    """Password logins whose Secrets Manager secret still exists."""
    proxy_logins: tuple[AppLogin, ...]
    """Of those, the ones the proxy still logs in with their password (its `auths`)."""
    urls: bool
    """Task definitions reference the password URLs (`keep` only)."""
    rollback_urls: bool
    """The previous task definition references them, so the execution role may still read them (`retire`)."""
    proxy_after_roles: bool
    """The proxy waits for the app login roles (`retire`): they join `rds_iam` in the deploy that drops their
    password `auths` from the proxy, and the proxy then logs them in by IAM, which fails until they are members.
    Ordered by a deferred dependency (`Postgres` is declared before `DatabaseObjects`; no cycle: the roles use
    neither the proxy nor its outputs)."""

    @property
    def password_users(self) -> tuple[str, ...]:
        """App logins (not the gateway) that keep their password in the database: not in `rds_iam`."""
        return tuple(login.username for login in self.proxy_logins if login.username != GATEWAY)


def migration_phase(settings: StackSettings) -> MigrationPhase:
    """The phase of `settings` (all empty on a stack that never had the gateway layout)."""
    phase = settings.database.legacy_password_logins
    gateway = (AppLogin(GATEWAY, read_only=False),) if settings.tenant_defaults.legacy_gateway else ()
    kept = APP_PASSWORD_LOGINS if phase == "keep" else ()
    return MigrationPhase(
        secrets=(*(APP_PASSWORD_LOGINS if phase else ()), *gateway),
        proxy_logins=(*kept, *gateway),
        urls=phase == "keep",
        rollback_urls=phase == "retire",
        proxy_after_roles=phase == "retire",
    )
