-- id: dane-stale-after-rollover
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7671 §8.1; RFC 7672 §3.1
-- description: The endpoint passed DANE in the previous scan with the same TLSA records and now presents another certificate that none of them matches: a certificate or key rollover without first publishing the next TLSA record (found only when the previous scan's dataset is given).
SELECT CAST(NULL AS VARCHAR) AS domain, host, address,
       'passed in scan ' || prev_scan_id || ' with the same TLSA records (matched by ' || coalesce(prev_matched, '?') || '); another leaf certificate now' || CASE WHEN sigalgs <> 'any' THEN ' (' || sigalgs || ')' ELSE '' END AS evidence
FROM stale_endpoints
