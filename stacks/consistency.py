"""Checks between settings, and between a stack file and the facts outside it: what AWS would refuse at
deploy time, or what would be silently ignored, refused offline with one message per problem.

Config-level checks (`config_problems`) run on the raw stack config of either project, before its settings
are validated: namespaces, flat keys, the region, the stack tag. Settings-level checks (`APP_CHECKS`) run on
the validated app settings together with the config. Every problem names the full key, the value and what
is allowed; the sources of the AWS rules are cited where the rule is encoded.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacks.aws_facts import (
    AURORA_POSTGRES_AS_OF,
    AURORA_POSTGRES_CHECK,
    AURORA_POSTGRES_SOURCE,
    AURORA_POSTGRES_VERSIONS,
    az_prefix,
    az_region,
    is_region,
    minor_number,
    regions,
)
from stacks.base import BASELINE_PROJECT, PROJECT
from stacks.errors import Problem
from stacks.identity import PROD_NAME
from stacks.windows import daily, overlap, weekly

if TYPE_CHECKING:
    from stacks.settings import StackSettings

PROJECT_DIRS = {PROJECT: "the repository root (Pulumi.<stack>.yaml)",
                BASELINE_PROJECT: "baseline/ (baseline/Pulumi.<stack>.yaml)"}
"""Each project of the repository and where its stack files live."""

PROVIDER_NAMESPACES: dict[str, frozenset[str]] = {
    PROJECT: frozenset({"aws", "cloudflare", "postgresql", "random", "pulumi"}),
    BASELINE_PROJECT: frozenset({"aws", "pulumi"}),
}
"""Namespaces other than its own that a project's stack file may hold: the providers its program uses
(requirements.txt) and `pulumi:` (stack tags, template settings)."""


FLAT_KEY = re.compile(r"[.\[]")
"""What marks a flat key (`backend.cpu`, `tenants[0]`): the loaders leave these to `namespace_problems`."""


def _render(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= 120 else text[:117] + "..."


def nearest(word: str, candidates: Collection[str]) -> str | None:
    """The candidate closest to a typo, or None when nothing is close."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def namespace_problems(config: Mapping[str, Any], project: str, top_keys: Collection[str]) -> list[Problem]:
    """Keys no program reads: an unknown namespace, the other project's namespace, a flat `a.b` key."""
    problems: list[Problem] = []
    allowed = PROVIDER_NAMESPACES[project] | {project}
    for key in config:
        namespace, _, name = str(key).partition(":")
        if namespace == project:
            top = FLAT_KEY.split(name, maxsplit=1)[0]
            if top != name and top in top_keys:
                problems.append(Problem(
                    str(key), _render(config[key]),
                    "a flat key: `pulumi config set` without `--path` stores the dotted name as one key, which no "
                    f"setting reads; set it nested with: pulumi config set --path '{key}' <value>  (it then appears "
                    f"under {project}:{top} in the file)"))
            elif top != name:  # a flat key under no setting: the loaders drop flat keys, so say it here
                guess = nearest(top, top_keys)
                hint = f"did you mean `{project}:{guess}`? " if guess else ""
                problems.append(Problem(
                    str(key), _render(config[key]),
                    f"unknown key `{top}`, which nothing reads; {hint}valid keys here: {', '.join(sorted(top_keys))}"))
            continue
        if namespace in PROJECT_DIRS:
            problems.append(Problem(
                str(key), _render(config[key]),
                f"belongs to the {namespace} project, whose stack files live in {PROJECT_DIRS[namespace]}; this file "
                f"is read by the {project} project, which would ignore it"))
        elif namespace not in allowed:
            guess = nearest(namespace, allowed)
            hint = f"did you mean `{guess}:{name}`? " if guess else ""
            problems.append(Problem(
                str(key), _render(config[key]),
                f"unknown namespace `{namespace}:`, which nothing reads; {hint}namespaces here: "
                f"{', '.join(sorted(allowed))}"))
    return problems


def region_problems(config: Mapping[str, Any]) -> list[Problem]:
    """`aws:region` is a region AWS has (botocore's endpoint data)."""
    region = config.get("aws:region")
    if not region:
        return [Problem("aws:region", "nothing", "this key is required: the AWS region the stack deploys to, "
                        "e.g. us-east-1")]
    if is_region(region):
        return []
    guess = nearest(region, regions()) if isinstance(region, str) else None
    hint = f"did you mean {guess}? " if guess else ""
    return [Problem("aws:region", _render(region), f"not an AWS region; {hint}regions: see `python -c \"import "
                    "botocore.session as s; print(s.get_session().get_available_regions('ec2'))\"`")]


def _tags(config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    raw = config.get("aws:defaultTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    tags = raw.get("tags") if isinstance(raw, Mapping) else None
    return tags if isinstance(tags, Mapping) else None


def stack_tag_problems(config: Mapping[str, Any], expected: str) -> list[Problem]:
    """`aws:defaultTags.tags.stack` names this stack: budgets and cost reports filter on it
    (components/account_alerts.py: `user:stack$<stack>`), so a file copied from another stack that still
    carries its tag bills every resource to that stack."""
    tags = _tags(config)
    if tags is None:
        return []
    given = tags.get("stack")
    if given == expected:
        return []
    return [Problem("aws:defaultTags.tags.stack", _render(given) if given is not None else "nothing",
                    f"must be {expected!r}, this stack's name: every resource carries it, and the budget and cost "
                    "reports filter on it (a copied file still naming another stack bills its resources there)")]


def config_problems(config: Mapping[str, Any], project: str, top_keys: Collection[str], stack_tag: str) -> list[Problem]:
    """Every config-level problem of a stack file of `project`."""
    return [*namespace_problems(config, project, top_keys), *region_problems(config),
            *stack_tag_problems(config, stack_tag)]


# --- settings-level checks of the app ---------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a settings check sees besides the settings: the stack, its config and the keys the file gave."""

    stack: str
    config: Mapping[str, Any]
    raw: Mapping[str, Any]
    """The `floyo-infra:` settings as given (before tier defaults), e.g. {"backend": {...}}."""

    def given(self, *path: str) -> bool:
        node: Any = self.raw
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return True

    @property
    def region(self) -> str:
        return str(self.config.get("aws:region", ""))


AppCheck = Callable[["StackSettings", Context], list[Problem]]


def az_ids_in_region(settings: StackSettings, ctx: Context) -> list[Problem]:
    """Each AZ ID belongs to `aws:region` (an AZ ID's prefix names its region: use1-az1 is us-east-1)."""
    if not is_region(ctx.region):
        return []  # reported as a bad region
    ids = settings.network.availability_zone_ids
    foreign = {az: az_region(az) for az in ids if az_region(az) != ctx.region}
    if not foreign:
        return []
    where = ", ".join(f"{az} ({region or 'no known region'})" for az, region in foreign.items())
    return [Problem(f"{PROJECT}:network.availability_zone_ids", _render(ids),
                    f"{where} not in aws:region {ctx.region}: its AZ IDs start with {az_prefix(ctx.region)}-, e.g. "
                    f"{az_prefix(ctx.region)}-az1 (`aws ec2 describe-availability-zones --region {ctx.region}`)")]


def engine_version_exists(settings: StackSettings, ctx: Context) -> list[Problem]:
    """`database.engine_version` is an Aurora PostgreSQL version AWS released (dated table in stacks/aws_facts.py);
    its parameter family (`aurora-postgresql<major>`) follows from it."""
    version = settings.database.engine_version
    major = version.split(".")[0]
    known = AURORA_POSTGRES_VERSIONS.get(major, ())
    if version in known:
        return []
    minor, newest = minor_number(version), max((minor_number(v) or 0 for v in known), default=None)
    if minor is not None and newest is not None and minor > newest:
        return [Problem(f"{PROJECT}:database.engine_version", repr(version),
                        f"newer than {major}.{newest}, the newest {major}.x in stacks/aws_facts.py (as of "
                        f"{AURORA_POSTGRES_AS_OF}); if AWS has released it, add it to stacks/aws_facts.py after "
                        f"checking `{AURORA_POSTGRES_CHECK}`")]
    return [Problem(f"{PROJECT}:database.engine_version", repr(version),
                    f"not an Aurora PostgreSQL version ({', '.join(known) or 'majors ' + ', '.join(AURORA_POSTGRES_VERSIONS)}"
                    f"; as of {AURORA_POSTGRES_AS_OF}, from {AURORA_POSTGRES_SOURCE.split()[0]}); a newer release: add "
                    f"it to AURORA_POSTGRES_VERSIONS in stacks/aws_facts.py after checking `{AURORA_POSTGRES_CHECK}`")]


def windows_apart(settings: StackSettings, ctx: Context) -> list[Problem]:
    """Backup/snapshot windows miss the maintenance windows and are long enough (sources: stacks/windows.py)."""
    problems: list[Problem] = []
    db, cache = settings.database, settings.cache
    for key, (segments, length), (maint, maint_length), floor, maint_key, service in (
        ("database.backup_window", daily(db.backup_window), weekly(db.maintenance_window), 30,
         "database.maintenance_window", "RDS"),
        ("cache.snapshot_window", daily(cache.snapshot_window), weekly(cache.maintenance_window), 60,
         "cache.maintenance_window", "ElastiCache"),
    ):
        value = getattr(db if key.startswith("database") else cache, key.split(".")[1])
        maint_value = getattr(db if maint_key.startswith("database") else cache, maint_key.split(".")[1])
        if overlap(segments, maint):
            problems.append(Problem(f"{PROJECT}:{key}", repr(value),
                                    f"overlaps {maint_key} ({maint_value}); {service} refuses overlapping windows"))
        if length < floor:
            problems.append(Problem(f"{PROJECT}:{key}", repr(value), f"{service} needs at least {floor} minutes"))
        if maint_length < floor:
            problems.append(Problem(f"{PROJECT}:{maint_key}", repr(maint_value),
                                    f"{service} needs at least {floor} minutes"))
    return problems


@dataclass(frozen=True)
class ModeKey:
    """A key that only means something in one mode: given in another mode, it would be silently ignored."""

    path: tuple[str, ...]
    applies: Callable[[StackSettings], bool]
    mode: str
    """The mode it applies to, for the message."""


MODE_KEYS: tuple[ModeKey, ...] = (
    *(ModeKey(("backend", "deployment", k), lambda s: s.backend.deployment.strategy == "CANARY",
              "backend.deployment.strategy CANARY") for k in ("canary_percent", "canary_interval_minutes")),
    *(ModeKey(("backend", "deployment", k), lambda s: s.backend.deployment.strategy == "LINEAR",
              "backend.deployment.strategy LINEAR") for k in ("linear_step_percent", "linear_interval_minutes")),
    ModeKey(("backend", "deployment", "bake_time_minutes"), lambda s: s.backend.deployment.gradual,
            "a gradual backend.deployment.strategy (CANARY, LINEAR, BLUE_GREEN)"),
    *(ModeKey(("database", k), lambda s: s.database.serverless, "database.serverless: true")
      for k in ("min_capacity", "max_capacity")),
    ModeKey(("database", "instance_class"), lambda s: not s.database.serverless, "database.serverless: false"),
    ModeKey(("cdn", "cache", "browser_ttl_seconds"),
            lambda s: s.cdn.cache.browser_ttl_mode == "override_origin" and not s.cdn.cache.respect_origin_cache_control,
            "cdn.cache.browser_ttl_mode override_origin (and respect_origin_cache_control false)"),
    ModeKey(("cdn", "cache", "edge_ttl_seconds"), lambda s: not s.cdn.cache.respect_origin_cache_control,
            "cdn.cache.respect_origin_cache_control false"),
)
"""Every setting whose effect depends on another: listed by hand, since the dependency is in the code that
uses them (components/), not in the schema."""


def no_ignored_keys(settings: StackSettings, ctx: Context) -> list[Problem]:
    """A key given where it has no effect is an error, not a silent no-op."""
    problems = [Problem(f"{PROJECT}:{'.'.join(m.path)}", "a value",
                        f"has no effect here: it applies only with {m.mode}; remove it or change that mode")
                for m in MODE_KEYS if ctx.given(*m.path) and not m.applies(settings)]
    override = settings.tier_override
    if override is not None and (not PROD_NAME.match(ctx.stack) or settings.tier == "prod"):
        problems.append(Problem(
            f"{PROJECT}:tier_override", repr(override),
            f"changes nothing: it only lets a stack named prod* run with tier dev, and stack '{ctx.stack}' "
            + ("is not named prod*" if not PROD_NAME.match(ctx.stack) else "runs with tier prod") + "; remove it"))
    return problems


def health_check_not_cached(settings: StackSettings, ctx: Context) -> list[Problem]:
    """The health check path is never under a static (cached) prefix: a cached 200 would hide an outage."""
    path = settings.backend.health_check.path
    under = [p for p in settings.cdn.cache.static_path_prefixes if path.startswith(p)]
    if not under:
        return []
    return [Problem(f"{PROJECT}:cdn.cache.static_path_prefixes", _render(under),
                    f"covers backend.health_check.path ({path}): the edge would cache the health check and serve "
                    "a healthy answer while the origin is down")]


APP_CHECKS: list[AppCheck] = [az_ids_in_region, engine_version_exists, windows_apart, no_ignored_keys,
                              health_check_not_cached]
"""Settings-level checks that need the stack or its config besides the settings, in the order they run."""
