"""The SQL the postgresql provider runs for the roles, grants and schemas a plan declares.

One source: the statements are rendered from the offline plan's `postgresql:*` resources (the
very registrations `pulumi up` would send), never from a second description of the roles. The
real-PostgreSQL isolation test (`tests/test_tenants_postgres.py`) runs them on a real server.

The statements follow what the provider (cyrilgdn/terraform-provider-postgresql, bridged by
pulumi-postgresql) executes for each resource on create, and on delete for resources a later
plan no longer declares:

* Role: `CREATE ROLE ... [NO]LOGIN [NO]INHERIT CONNECTION LIMIT n PASSWORD ...`, a `GRANT` per
  entry of `roles`, `ALTER ROLE ... SET statement_timeout`; on delete `REASSIGN OWNED BY` the
  admin, `DROP OWNED BY`, `DROP ROLE`;
* Grant: `REVOKE ALL` from the grantee, then `GRANT` the listed privileges (none: revoke only);
* DefaultPrivileges: the same, as `ALTER DEFAULT PRIVILEGES FOR ROLE <owner> IN SCHEMA ...`;
* GrantRole: `GRANT <grant_role> TO <role>`; on delete `REVOKE`;
* Schema: `CREATE SCHEMA ... AUTHORIZATION <owner>`; on delete nothing when `retain_on_delete`,
  else `DROP SCHEMA ... CASCADE|RESTRICT` after `drop_cascade`;
* Database: `CREATE DATABASE` (run in `postgres`); Extension: `CREATE EXTENSION IF NOT EXISTS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ops.plan.planner import SECRET, Plan, PlannedResource

PREFIX = "postgresql:index/"
OBJECTS = {"table": "ALL TABLES IN SCHEMA", "sequence": "ALL SEQUENCES IN SCHEMA", "function": "ALL FUNCTIONS IN SCHEMA"}
DEFAULT_OBJECTS = {"table": "TABLES", "sequence": "SEQUENCES", "function": "FUNCTIONS", "type": "TYPES"}


def ident(name: str) -> str:
    """A quoted identifier (`PUBLIC` stays the keyword, as the provider treats role "public")."""
    return "PUBLIC" if name == "public" else '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Script:
    """Statements for the admin database (`postgres`) and for the application database."""

    database: str = ""
    admin: list[str] = field(default_factory=list)
    app: list[str] = field(default_factory=list)


def _type(resource: PlannedResource) -> str:
    return resource.type.removeprefix(PREFIX).split(":")[-1]


def _role(i: Mapping[str, Any], passwords: Mapping[str, str]) -> list[str]:
    name = i["name"]
    options = ["LOGIN" if i.get("login") else "NOLOGIN", "INHERIT" if i.get("inherit", True) else "NOINHERIT",
               f"CONNECTION LIMIT {int(i.get('connectionLimit', -1))}"]
    password = i.get("password")
    if password == SECRET:
        password = passwords.get(name)
        if password is None:
            raise KeyError(f"role {name} has a secret password: pass it in `passwords`")
    if password:
        options.append(f"PASSWORD {literal(password)}")
    sql = [f"CREATE ROLE {ident(name)} WITH {' '.join(options)}"]
    sql += [f"GRANT {ident(group)} TO {ident(name)}" for group in i.get("roles") or []]
    if "statementTimeout" in i:
        sql.append(f"ALTER ROLE {ident(name)} SET statement_timeout TO {int(i['statementTimeout'])}")
    return sql


def _on(i: Mapping[str, Any], database: str) -> str:
    kind = i["objectType"]
    if kind == "database":
        return f"DATABASE {ident(database)}"
    if kind == "schema":
        return f"SCHEMA {ident(i['schema'])}"
    return f"{OBJECTS[kind]} {ident(i['schema'])}"


def _grant(i: Mapping[str, Any], database: str) -> list[str]:
    target, grantee = _on(i, database), ident(i["role"])
    sql = [f"REVOKE ALL PRIVILEGES ON {target} FROM {grantee}"]
    if i.get("privileges"):
        sql.append(f"GRANT {', '.join(i['privileges'])} ON {target} TO {grantee}")
    return sql


def _default_privileges(i: Mapping[str, Any]) -> list[str]:
    scope = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(i['owner'])} IN SCHEMA {ident(i['schema'])}"
    objects, grantee = DEFAULT_OBJECTS[i["objectType"]], ident(i["role"])
    sql = [f"{scope} REVOKE ALL ON {objects} FROM {grantee}"]
    if i.get("privileges"):
        sql.append(f"{scope} GRANT {', '.join(i['privileges'])} ON {objects} TO {grantee}")
    return sql


def create_script(plan: Plan, passwords: Mapping[str, str] | None = None, locale: str | None = None) -> Script:
    """What creating every postgresql resource of `plan` runs, in registration order (which follows the
    program's dependencies). `passwords`: role name -> password, for roles whose password is a secret.
    `locale`: replace the database's `lc_collate`/`lc_ctype` (a test server may lack the declared locale)."""
    passwords = dict(passwords or {})
    script = Script()
    for r in plan.resources:
        if not r.type.startswith(PREFIX):
            continue
        i, kind = r.inputs, _type(r)
        if kind == "Database":
            script.database = i["name"]
            collate, ctype = locale or i.get("lcCollate", "C"), locale or i.get("lcCtype", "C")
            script.admin.append(
                f"CREATE DATABASE {ident(i['name'])} TEMPLATE {ident(i.get('template', 'template0'))} "
                f"ENCODING {literal(i.get('encoding', 'UTF8'))} LC_COLLATE {literal(collate)} LC_CTYPE {literal(ctype)}")
        elif kind == "Role":
            script.app += _role(i, passwords)
        elif kind == "Grant":
            script.app += _grant(i, script.database)
        elif kind == "DefaultPrivileges":
            script.app += _default_privileges(i)
        elif kind == "GrantRole":
            admin = " WITH ADMIN OPTION" if i.get("withAdminOption") else ""
            script.app.append(f"GRANT {ident(i['grantRole'])} TO {ident(i['role'])}{admin}")
        elif kind == "Schema":
            script.app.append(f"CREATE SCHEMA {ident(i['name'])} AUTHORIZATION {ident(i['owner'])}")
        elif kind == "Extension":
            schema = f" SCHEMA {ident(i['schema'])}" if i.get("schema") else ""
            script.app.append(f"CREATE EXTENSION IF NOT EXISTS {ident(i['name'])}{schema}")
        else:
            raise ValueError(f"no SQL rendering for {r.type} ({r.name}); add it to ops/plan/pgsql.py")
    return script


def _delete(r: PlannedResource, database: str) -> list[str]:
    i, kind = r.inputs, _type(r)
    if kind == "Schema":
        if r.retain_on_delete:
            return []  # Pulumi only forgets it: the schema and its tables stay
        return [f"DROP SCHEMA {ident(i['name'])} {'CASCADE' if i.get('dropCascade') else 'RESTRICT'}"]
    if kind == "GrantRole":
        return [f"REVOKE {ident(i['grantRole'])} FROM {ident(i['role'])}"]
    if kind == "Role":
        name = ident(i["name"])
        return [f"REASSIGN OWNED BY {name} TO CURRENT_USER", f"DROP OWNED BY {name}", f"DROP ROLE {name}"]
    if kind in ("Grant", "DefaultPrivileges"):
        revoke = _grant if kind == "Grant" else (lambda i, _db: _default_privileges(i))
        return revoke({**i, "privileges": []}, database)
    raise ValueError(f"no delete rendering for {r.type} ({r.name})")


def delete_script(before: Plan, after: Plan, database: str) -> list[str]:
    """What `pulumi up` from `before` to `after` runs for the postgresql resources `after` no longer
    declares (deleted in reverse registration order, each as `before` last declared it)."""
    kept = {r.urn for r in after.resources}
    gone: Sequence[PlannedResource] = [r for r in before.resources if r.type.startswith(PREFIX) and r.urn not in kept]
    return [sql for r in reversed(gone) for sql in _delete(r, database)]
