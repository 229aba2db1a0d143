-- id: endpoints-inconsistent
-- unit: mx_host
-- severity: weakens_security
-- source: RFC 7672 §3; article: every address and certificate type must match
-- description: The addresses or certificate types of one MX host disagree: some pass DANE and others do not.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address,
       CAST(count(*) AS VARCHAR) || ' endpoints, ' || CAST(sum(CASE WHEN dane_status = 'pass' THEN 1 ELSE 0 END) AS VARCHAR) || ' passing' AS evidence
FROM endpoints
WHERE dane_status IN ('pass', 'fail', 'no_usable_records', 'transport_failed', 'tlsa_lookup_failed')
GROUP BY host
HAVING sum(CASE WHEN dane_status = 'pass' THEN 1 ELSE 0 END) > 0 AND sum(CASE WHEN dane_status = 'pass' THEN 1 ELSE 0 END) < count(*)
