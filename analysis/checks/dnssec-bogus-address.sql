-- id: dnssec-bogus-address
-- unit: mx_host
-- severity: delivery_fails
-- source: RFC 4035 §5.5; RFC 7672 §2.2
-- description: An MX host's A or AAAA RRset is bogus: validating senders cannot reach it.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address,
       CASE WHEN a_dnssec = 'bogus' THEN 'A ' || a_dnssec_reason ELSE 'AAAA ' || aaaa_dnssec_reason END AS evidence
FROM mx_hosts
WHERE a_dnssec = 'bogus' OR aaaa_dnssec = 'bogus'
