-- id: tip-tlsa-ttl
-- unit: mx_host
-- severity: advice
-- source: article: TLSA TTL between 1,800 and 3,600 seconds
-- description: The TLSA RRset's TTL is outside 1,800-3,600 s: too short costs lookups, too long slows a rollover.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address, 'TTL ' || CAST(tlsa_ttl AS VARCHAR) AS evidence
FROM mx_hosts
WHERE len(tlsa_records) > 0 AND tlsa_state <> 'skipped' AND (tlsa_ttl < 1800 OR tlsa_ttl > 3600)
