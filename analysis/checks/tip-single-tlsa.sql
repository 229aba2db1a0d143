-- id: tip-single-tlsa
-- unit: mx_host
-- severity: advice
-- source: article: publish a rollover scheme; RFC 7671 §8
-- description: The host has exactly one TLSA record, so a key or certificate change breaks DANE unless the next record is published first (current + next, or 3 1 1 + 2 1 1).
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address, tlsa_records[1] AS evidence
FROM mx_hosts
WHERE tlsa_state = 'dane' AND len(tlsa_records) = 1
