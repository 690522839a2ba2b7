"""The CloudWatch metric names AWS documents for ElastiCache (Valkey and Redis OSS), as a dated table.

Tests check that every cache alarm of the catalogue (components/alarm_catalogue.py) reads one of these, so a
typo in a metric name (an alarm that would never leave INSUFFICIENT_DATA) fails offline. When AWS adds a
metric you want to alarm on, add it here with the date you checked.
"""

from __future__ import annotations

ELASTICACHE_METRICS_AS_OF = "2026-12-04"
ELASTICACHE_HOST_METRICS_SOURCE = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.HostLevel.html"
ELASTICACHE_ENGINE_METRICS_SOURCE = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html"

ELASTICACHE_NAMESPACE = "AWS/ElastiCache"

ELASTICACHE_HOST_METRICS: frozenset[str] = frozenset({
    "CPUUtilization", "CPUCreditBalance", "CPUCreditUsage", "FreeableMemory", "NetworkBytesIn", "NetworkBytesOut",
    "NetworkPacketsIn", "NetworkPacketsOut", "SwapUsage", "NetworkBandwidthInAllowanceExceeded",
    "NetworkBandwidthOutAllowanceExceeded", "NetworkConntrackAllowanceExceeded",
    "NetworkLinkLocalAllowanceExceeded", "NetworkPacketsPerSecondAllowanceExceeded", "NetworkMaxBytesIn",
    "NetworkMaxBytesOut", "NetworkMaxPacketsIn", "NetworkMaxPacketsOut",
})
"""Host-level metrics (`ELASTICACHE_HOST_METRICS_SOURCE`, "Host-level metrics"), per node (`CacheClusterId`,
`CacheNodeId`), as of `ELASTICACHE_METRICS_AS_OF`."""

ELASTICACHE_ENGINE_METRICS: frozenset[str] = frozenset({
    "ActiveDefragHits", "AuthenticationFailures", "BytesUsedForCache", "BytesReadFromDisk", "BytesWrittenToDisk",
    "CacheHits", "CacheMisses", "CommandAuthorizationFailures", "CacheHitRate",
    "CurrConnections", "CurrItems", "CurrVolatileItems", "DatabaseCapacityUsagePercentage",
    "DatabaseCapacityUsageCountedForEvictPercentage", "DatabaseMemoryUsagePercentage",
    "DatabaseMemoryUsageCountedForEvictPercentage", "DB0AverageTTL", "EngineCPUUtilization", "Evictions",
    "GlobalDatastoreReplicationLag", "IsMaster",
    "KeyAuthorizationFailures", "KeysTracked", "MemoryFragmentationRatio", "NewConnections",
    "NumItemsReadFromDisk", "NumItemsWrittenToDisk", "MasterLinkHealthStatus", "Reclaimed", "ReplicationBytes",
    "ReplicationLag", "SaveInProgress", "TrafficManagementActive", "SuccessfulReadRequestLatency",
    "SuccessfulWriteRequestLatency",
})
"""Engine-level metrics for Valkey and Redis OSS (`ELASTICACHE_ENGINE_METRICS_SOURCE`), per node
(`CacheClusterId`), as of `ELASTICACHE_METRICS_AS_OF`. The page's per-command-type counts and latencies
(`GetTypeCmds`, `SetTypeCmdsLatency`, ...) and the authorization-failure variants beyond the ones listed are left
out: no alarm reads them; add a name here (checked on the page) before alarming on it."""

ELASTICACHE_METRICS: frozenset[str] = ELASTICACHE_HOST_METRICS | ELASTICACHE_ENGINE_METRICS
