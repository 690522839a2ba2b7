"""Cost estimates (docs/cost.md): coverage of every type, hand-checked lines, money in the diff, the budget gate."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import pytest

from ops.cost import estimate_plan
from ops.cost.coverage import FREE, USAGE_ONLY
from ops.cost.delta import compare_estimates, markdown_lines, text_lines
from ops.cost.engine import PRICERS, SPECIAL, Estimate
from ops.cost.prices import STALE_AFTER_DAYS, TABLE, PriceTableError, prices_for, table_date
from ops.plan.check import run_policies
from ops.plan.planner import Plan
from ops.stackfile import ROOT
from policy.floyo_policies.budget import budget_covers_estimate, budget_gate
from stacks.budget import committed_estimate
from tests.ops_cli import run_ops
from tests.planning import one, plan_with, planned, settings_for, stack_plan, with_changes
from tests.variants import LOW_BUDGET_USD, low_budget_dev

BASELINE = ROOT / "baseline"
H = 730


def _estimate(plan: Plan, changes: dict | None = None) -> Estimate:
    settings = settings_for(with_changes(plan.stack, changes))
    return estimate_plan(plan.as_json()["resources"], "us-east-1", settings.cost.usage, settings.cdn.plan)


def _line(estimate: Estimate, name: str, token: str = "") -> float:
    return next(line.monthly_usd for line in estimate.lines if line.name == name and token in line.type)


def _baseline_plan() -> Plan:
    from ops.stackfile import read_stack_config

    return planned(read_stack_config("main-use1", BASELINE), BASELINE)


def test_every_type_in_both_projects_is_priced_free_or_usage_only() -> None:
    covered = PRICERS.keys() | SPECIAL.keys() | FREE.keys() | USAGE_ONLY.keys()
    plans = [stack_plan("dev"), stack_plan("prod"), _baseline_plan()]
    missing = sorted({r.type for plan in plans for r in plan.resources if r.custom} - covered)
    assert not missing, (
        f"resource types without a cost rule: {missing}. Add each to ops/cost/engine.py PRICERS (with its unit "
        "price in ops/cost/prices.json and its source), or to ops/cost/coverage.py FREE (why it costs nothing) "
        "or USAGE_ONLY (what it is billed on)")


def test_no_type_is_both_free_and_billed() -> None:
    assert not (FREE.keys() & (USAGE_ONLY.keys() | PRICERS.keys()))
    assert not (USAGE_ONLY.keys() & PRICERS.keys())


def test_dev_and_prod_price_every_resource_they_declare() -> None:
    for stack in ("dev", "prod"):
        estimate = _estimate(stack_plan(stack))
        assert estimate.total > 0
        assert [u for u in estimate.unpriced if not u.reason.startswith("usage-only")] == []


def test_price_table_is_dated_and_every_unit_names_its_source() -> None:
    age = (dt.date.today() - table_date()).days
    if age > STALE_AFTER_DAYS:
        warnings.warn(f"{TABLE} is {age} days old: rebuild it (`python -m ops.cost.rebuild`, docs/cost.md)",
                      stacklevel=1)
    for key, unit in json.loads(TABLE.read_text())["regions"]["us-east-1"].items():
        assert unit["offer"] and unit["usage_type"], key


def test_a_region_without_prices_is_one_clear_error() -> None:
    with pytest.raises(PriceTableError, match=r"no prices for eu-north-1 .*us-east-1"):
        prices_for("eu-north-1")


def test_nat_fargate_and_aurora_lines_match_a_hand_calculation() -> None:
    # unit prices (us-east-1, ops/cost/prices.json): NAT $0.045/h and $0.045/GB (AmazonEC2 NatGateway-Hours,
    # -Bytes); Fargate $0.04048 per vCPU-h, $0.004445 per GB-h (AmazonECS); db.r7g.large $0.276/h,
    # Serverless v2 $0.12/ACU-h, storage $0.10/GB-month, I/O $0.20/million (AmazonRDS)
    prod = _estimate(stack_plan("prod"))
    assert _line(prod, "net-nat-0", "natGateway") == pytest.approx(H * 0.045 + 500 / 3 * 0.045)  # 3 gateways share 500 GB
    assert _line(prod, "backend-service") == pytest.approx(3 * H * (1 * 0.04048 + 2 * 0.004445))  # 1 vCPU, 2 GB
    assert _line(prod, "db-writer") == pytest.approx(H * 0.276)
    # + the RDS-managed master secret + Database Insights advanced (3 x db.r7g.large, 2 vCPU each, $0.0125/vCPU-h)
    assert _line(prod, "db-cluster") == pytest.approx(200 * 0.10 + 500 * 0.20 + 0.40 + 6 * H * 0.0125)
    assert _line(prod, "db-proxy") == pytest.approx(3 * 2 * H * 0.015)  # 3 instances x 2 vCPU
    dev = _estimate(stack_plan("dev"))
    assert _line(dev, "net-nat-0", "natGateway") == pytest.approx(H * 0.045 + 50 * 0.045)
    assert _line(dev, "backend-service") == pytest.approx(H * (0.5 * 0.04048 + 1 * 0.004445))
    assert _line(dev, "db-writer") == pytest.approx(0.5 * H * 0.12)  # 0.5 ACU minimum, all month
    assert _line(dev, "db-proxy") == pytest.approx(8 * H * 0.015)  # below the 8-ACU minimum


def _with_inputs(resources: list[dict], token: str, **inputs: object) -> list[dict]:
    return [{**r, "inputs": {**r["inputs"], **inputs}} if r["type"] == token else r for r in resources]


def test_a_zero_acu_minimum_saves_nothing_behind_the_proxy() -> None:
    from stacks.cost import UsageAssumptions

    usage = UsageAssumptions(serverless_average_acu=0.5, serverless_paused_share=0.6)
    resources = _with_inputs(stack_plan("dev").as_json()["resources"], "aws:rds/cluster:Cluster",
                             serverlessv2ScalingConfiguration={"minCapacity": 0, "maxCapacity": 4})
    behind_proxy = estimate_plan(resources, "us-east-1", usage)
    assert _line(behind_proxy, "db-writer") == pytest.approx(0.5 * H * 0.12)  # runs all month
    no_proxy = estimate_plan([r for r in resources if r["type"] != "aws:rds/proxy:Proxy"], "us-east-1", usage)
    assert _line(no_proxy, "db-writer") == pytest.approx(0.5 * H * 0.4 * 0.12)  # paused 60% of the month


def test_settings_refuse_a_zero_acu_minimum_in_every_tier() -> None:
    from stacks import SettingsError

    for stack in ("dev", "prod"):
        with pytest.raises(SettingsError, match=r"floyo-infra:database\.min_capacity.*RDS Proxy"):
            settings_for(with_changes(stack, {"database": {"serverless": True, "min_capacity": 0}}))


def test_io_optimized_bills_instances_and_acus_30_percent_more() -> None:
    from stacks.cost import UsageAssumptions

    usage = UsageAssumptions(serverless_average_acu=0.5)
    for stack, writer in (("prod", H * 0.276), ("dev", 0.5 * H * 0.12)):
        resources = _with_inputs(stack_plan(stack).as_json()["resources"], "aws:rds/cluster:Cluster",
                                 storageType="aurora-iopt1")
        estimate = estimate_plan(resources, "us-east-1", usage)
        assert _line(estimate, "db-writer") == pytest.approx(writer * 1.3), stack


def test_rotated_keys_managed_master_secret_and_usage_billed_parts_are_shown() -> None:
    dev = _estimate(stack_plan("dev"))
    keys = [line for line in dev.lines if line.type == "aws:kms/key:Key"]
    assert keys and all(line.monthly_usd == pytest.approx(3.0) for line in keys)  # $1 + 2 billed rotations
    assert _line(dev, "db-cluster") == pytest.approx(20 * 0.10 + 5 * 0.20 + 0.40)  # + the RDS-managed secret
    usage_only = {(u.type, u.name): u.reason for u in dev.unpriced}
    assert "Container Insights" in usage_only[("aws:ecs/cluster:Cluster", "backend-cluster")]
    assert "RDSOSMetrics" in usage_only[("aws:rds/clusterInstance:ClusterInstance", "db-writer")]


def test_two_added_readers_show_their_monthly_cost_in_the_diff() -> None:
    before = _estimate(stack_plan("prod"))
    after = _estimate(plan_with("prod", {"database": {"reader_count": 4}}))
    delta = compare_estimates(before, after, flag_usd=100)
    readers = {d.name: d.delta for d in delta.lines if d.type == "aws:rds/clusterInstance:ClusterInstance"}
    assert readers == {"db-reader-3": pytest.approx(H * 0.276), "db-reader-4": pytest.approx(H * 0.276)}
    assert delta.delta == pytest.approx(after.total - before.total) and delta.flagged
    text, markdown = "\n".join(text_lines(delta)), "\n".join(markdown_lines(delta))
    assert "db-reader-3: +$201.48/month" in text and "COST: adds" in text
    assert "| `db-reader-4` |" in markdown and "[!WARNING]" in markdown
    assert not compare_estimates(before, after, flag_usd=1000).flagged


def test_the_budget_defaults_to_the_committed_estimate_times_the_margin() -> None:
    for stack in ("dev", "prod"):
        committed = committed_estimate(stack)
        assert committed is not None
        budget = one(stack_plan(stack), "aws:budgets/budget:Budget")
        assert float(budget.inputs["limitAmount"]) == pytest.approx(round(committed.total_monthly_usd * 1.3, 2))


def test_committed_estimates_are_current() -> None:
    for stack in ("dev", "prod"):
        committed = committed_estimate(stack)
        assert committed is not None, f"run `python -m ops cost {stack} --write` and commit the file"
        now = _estimate(stack_plan(stack)).total
        assert committed.total_monthly_usd == pytest.approx(now, rel=0.05), (
            f"ops/cost/estimates/{stack}.json says ${committed.total_monthly_usd}, the plan costs ${now}: "
            f"run `python -m ops cost {stack} --write` and commit the file (the budget derives from it)")
        level = settings_for(with_changes(stack)).cost.budget_enforcement
        assert committed.budget_enforcement == level, (
            f"ops/cost/estimates/{stack}.json records budget_enforcement {committed.budget_enforcement!r}, "
            f"the stack says {level!r}: run `python -m ops cost {stack} --write` and commit the file")


def _findings(plan: Plan, policy_name: str) -> list[str]:
    return [f.message for f in run_policies(plan).findings if f.policy == policy_name]


def test_budget_policy_passes_the_default_and_reports_a_budget_below_the_estimate() -> None:
    assert _findings(stack_plan("dev"), budget_covers_estimate.name) == []
    assert settings_for(with_changes("dev")).cost.budget_enforcement == "advisory"  # dev's own level, so
    low = planned(low_budget_dev("advisory"))  # this is dev with a low budget (and test_slo's strategy)
    assert any("below the stack's estimate" in m for m in _findings(low, budget_covers_estimate.name))


def _gate(level: str, plan: Plan, directory: Path) -> list[str]:
    from pulumi_policy import StackValidationArgs

    from ops.plan.check import stack_resources

    found: list[str] = []
    budget_gate(level, directory)(StackValidationArgs(stack_resources(plan), {}),
                                  lambda message, urn=None: found.append(message))
    return found


def test_budget_policy_mandatory_only_where_the_stack_says_so(tmp_path: Path) -> None:
    for enforcement, mandatory, advisory in (("mandatory", 1, 0), ("advisory", 0, 1)):
        config = low_budget_dev(enforcement)  # shared with other tests (tests/variants.py)
        budget = settings_for(config)
        assert (budget.cost.budget_enforcement, budget.account.monthly_budget_usd) == (enforcement, LOW_BUDGET_USD)
        low = planned(config)
        (tmp_path / "dev.json").write_text(json.dumps(
            {"total_monthly_usd": 400, "prices_date": "2026-12-04", "budget_enforcement": enforcement}))
        assert len(_gate("mandatory", low, tmp_path)) == mandatory, enforcement
        assert len(_gate("advisory", low, tmp_path)) == advisory, enforcement


def test_the_level_comes_from_the_stack_not_only_the_file(tmp_path: Path) -> None:
    # the stack's level decides; its budget (below any estimate, shared with another test) plays no part:
    # the committed estimate here is below it
    mandatory = planned(low_budget_dev("mandatory"))
    assert _gate("mandatory", mandatory, tmp_path) == [
        "no committed cost estimate for dev: run `python -m ops cost dev --write`"]  # missing file: fails
    assert _gate("advisory", mandatory, tmp_path) == []
    (tmp_path / "dev.json").write_text(json.dumps(
        {"total_monthly_usd": 1, "prices_date": "2026-12-04", "budget_enforcement": "advisory"}))
    assert LOW_BUDGET_USD > 1  # so the budget is not what the gate reports
    assert any("records budget_enforcement 'advisory', the stack says 'mandatory'" in m
               for m in _gate("mandatory", mandatory, tmp_path))


def test_ops_cost_json_has_the_documented_shape() -> None:
    result = run_ops("cost", "dev", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["total_monthly_usd"] > 0 and doc["unpriced"] is not None
    assert {"name", "type", "monthly_usd", "basis"} <= set(doc["resources"][0])


def test_baseline_is_priced() -> None:
    from stacks.cost import UsageAssumptions

    estimate = estimate_plan(_baseline_plan().as_json()["resources"], "us-east-1", UsageAssumptions())
    assert estimate.total > 0
    assert [u for u in estimate.unpriced if not u.reason.startswith("usage-only")] == []


def test_set_prices_a_what_if_without_editing_the_file() -> None:
    from ops.cost import with_settings

    values = {"floyo-infra:database": json.dumps({"reader_count": 1})}
    changed = with_settings(values, ["database.min_capacity=0", "tier=prod"])
    assert json.loads(changed["floyo-infra:database"]) == {"reader_count": 1, "min_capacity": 0}
    assert json.loads(changed["floyo-infra:tier"]) == "prod"
    with pytest.raises(ValueError, match=r"KEY\.PATH=VALUE"):
        with_settings(values, ["database.min_capacity"])


def test_rebuild_takes_each_unit_from_its_offer_and_reports_what_it_cannot_find(tmp_path: Path) -> None:
    from ops.cost.rebuild import rebuild

    units = json.loads(TABLE.read_text())["regions"]["us-east-1"]
    for offer in {u["offer"] for u in units.values()}:
        (tmp_path / f"{offer}-us-east-1.json").write_text(json.dumps({"products": {}, "terms": {}}))
    (tmp_path / "AmazonEC2-us-east-1.json").write_text(json.dumps({
        "products": {"SKU1": {"attributes": {"usagetype": "NatGateway-Hours"}},
                     "SKU2": {"attributes": {"usagetype": "BoxUsage:t4g.nano", "instanceType": "t4g.nano",
                                             "operatingSystem": "Linux", "tenancy": "Shared",
                                             "preInstalledSw": "NA", "capacitystatus": "Used"}}},
        "terms": {"OnDemand": {
            "SKU1": {"T": {"priceDimensions": {"D": {"pricePerUnit": {"USD": "0.05"}}}}},
            "SKU2": {"T": {"priceDimensions": {"D": {"pricePerUnit": {"USD": "0.0043"}}}}}}}}))
    fresh, missing = rebuild("us-east-1", tmp_path)
    assert fresh["nat_gateway_hour"]["usd"] == 0.05
    assert fresh["ec2_hour"]["by_type"]["t4g.nano"] == 0.0043
    assert fresh["alb_hour"]["usd"] == units["alb_hour"]["usd"] and "alb_hour" in missing
    assert "nat_gateway_hour" not in missing and "ec2_hour.t4g.nano" not in missing


def test_a_stack_without_a_committed_estimate_gets_the_fallback_and_the_policy_says_so(tmp_path: Path) -> None:
    from stacks.budget import monthly_budget

    settings = settings_for(with_changes("dev"))
    assert monthly_budget("dev", settings, tmp_path) == settings.cost.fallback_budget_usd == 300
    assert monthly_budget("dev", settings) == round(committed_estimate("dev").total_monthly_usd * 1.3, 2)  # type: ignore[union-attr]
    from pulumi_policy import StackValidationArgs

    from ops.plan.check import stack_resources

    found: list[str] = []
    budget_gate("advisory", tmp_path)(StackValidationArgs(stack_resources(stack_plan("dev")), {}),
                                      lambda message, urn=None: found.append(message))
    assert found == ["no committed cost estimate for dev: run `python -m ops cost dev --write`"]


def test_the_diff_shows_the_money_in_text_markdown_and_json() -> None:
    from ops.cost.delta import cost_delta
    from ops.diff.plans import diff_plans
    from ops.diff.render import render_markdown, render_text

    base = stack_plan("prod").as_json()
    head = plan_with("prod", {"database": {"reader_count": 4}}).as_json()
    diff = diff_plans("prod", base, head)
    diff.cost = cost_delta("prod", base, head, ROOT)
    assert "db-reader-3: +$201.48/month" in render_text(diff)
    assert "| `db-reader-4` |" in render_markdown(diff) and "Cost: adds" in render_markdown(diff)
    assert diff.as_json()["cost"]["flagged"] and not diff.dangerous


def test_database_insights_advanced_is_priced_per_vcpu_hour() -> None:
    """Prod runs Database Insights in advanced mode: 3 db.r7g.large (2 vCPU each) x 730 h x $0.0125."""
    from ops.cost.engine import DATABASE_INSIGHTS_VCPU_HOUR

    prod = next(line for line in _estimate(stack_plan("prod")).lines if line.type == "aws:rds/cluster:Cluster")
    dev = next(line for line in _estimate(stack_plan("dev")).lines if line.type == "aws:rds/cluster:Cluster")
    assert "Database Insights advanced: 6 vCPU x 730 h" in prod.basis
    assert "Database Insights" not in dev.basis  # standard mode is free
    storage_and_io = 200 * 0.10 + 500 * 0.20  # prod's usage assumptions; plus the $0.40 master secret
    assert round(prod.monthly_usd - storage_and_io - 0.40, 2) == round(6 * H * DATABASE_INSIGHTS_VCPU_HOUR, 2)
