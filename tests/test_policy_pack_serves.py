"""The pack's entry point as Pulumi runs it (`pulumi-analyzer-policy-python` = `python -m pulumi.policy
<engine> <pack dir>`): it serves every policy over the analyzer gRPC protocol and reports a violation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy.floyo_policies import POLICIES

PACK = Path(__file__).resolve().parent.parent / "policy"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=PACK,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), f"the pack did not start: {proc.stderr.read() if proc.stderr else ''}"
        yield analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_pack_serves_every_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "floyo-infra"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)


def test_the_served_pack_reports_a_violation(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    props = struct_pb2.Struct()
    props.update({"metricQueries": [{"id": f"m{i}", "metric": {"metricName": "CacheHits"}} for i in range(11)]})
    response = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
        type="aws:cloudwatch/metricAlarm:MetricAlarm", properties=props, name="hit-rate",
        urn="urn:pulumi:dev::floyo-infra::aws:cloudwatch/metricAlarm:MetricAlarm::hit-rate"), timeout=30)
    found = [(d.policyName, d.message) for d in response.diagnostics]
    assert len(found) == 1 and found[0][0] == "metric-alarm-limits"
    assert "alarm hit-rate: its metric math reads 11 metrics; CloudWatch allows at most 10" in found[0][1]
