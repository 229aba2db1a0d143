-- id: dane-no-match
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 6698 §2.1; RFC 7672 §3.1; Lee et al., USENIX Security 2022
-- description: No usable TLSA record matches the certificate the server presents (stale records after a rollover, or data for another certificate); the nearest miss says how close it came.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address,
       'near miss ' || coalesce(dane_near_miss, '') || CASE WHEN dane_near_miss_params <> '' THEN ' (would match as ' || dane_near_miss_params || ')' ELSE '' END AS evidence
FROM endpoints
WHERE dane_status = 'fail' AND dane_reason = 'no_match'
