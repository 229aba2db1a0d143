-- Failing DANE counted in every unit, side by side: what fails, out of what DANE applies to. DANE applies where a DANE sender insists on it (RFC 7672 §2.2): secure TLSA records (tlsa_state dane), and TLSA lookups that are bogus or indeterminate (tlsa_state unusable), where the sender defers delivery: those always fail.
SELECT 'domain' AS unit,
  sum(CASE WHEN dane_every_mx AND dane <> 'all' THEN 1 ELSE 0 END) AS failing,
  sum(CASE WHEN dane_every_mx THEN 1 ELSE 0 END) AS applicable
FROM domains_dane
UNION ALL
SELECT 'mx_host',
  sum(CASE WHEN tlsa_state = 'unusable' OR (tlsa_state = 'dane' AND dane_status <> 'pass') THEN 1 ELSE 0 END),
  sum(CASE WHEN tlsa_state IN ('dane', 'unusable') THEN 1 ELSE 0 END)
FROM mx_hosts
UNION ALL
-- Scans before the status tlsa_lookup_failed wrote not_applicable for the endpoints of a host with tlsa_state unusable.
SELECT 'endpoint',
  sum(CASE WHEN dane_status IN ('fail', 'no_usable_records', 'transport_failed', 'tlsa_lookup_failed') OR (tlsa_state = 'unusable' AND dane_status = 'not_applicable') THEN 1 ELSE 0 END),
  sum(CASE WHEN dane_status IN ('pass', 'fail', 'no_usable_records', 'transport_failed', 'tlsa_lookup_failed') OR (tlsa_state = 'unusable' AND dane_status = 'not_applicable') THEN 1 ELSE 0 END)
FROM endpoints
UNION ALL
SELECT 'tlsa_rrset',
  sum(CASE WHEN tlsa_state = 'unusable' OR (tlsa_state = 'dane' AND dane_status IN ('fail', 'no_usable_records')) THEN 1 ELSE 0 END),
  sum(CASE WHEN tlsa_state IN ('dane', 'unusable') THEN 1 ELSE 0 END)
FROM mx_hosts
UNION ALL
-- Per endpoint and record: a record unusable on port 25; every record of a TLSA RRset whose lookup is bogus fails.
SELECT 'record',
  sum(CASE WHEN r.reason <> '' THEN 1 ELSE 0 END),
  count(*)
FROM (
  SELECT u.reason
  FROM (SELECT host, tlsa_unusable FROM endpoints WHERE (sigalgs = 'any' OR sigalgs = 'ecdsa') AND tlsa_state IS DISTINCT FROM 'unusable') e
  CROSS JOIN UNNEST(e.tlsa_unusable) AS u(reason)
  UNION ALL
  SELECT 'tlsa_lookup_failed'
  FROM (SELECT host FROM endpoints WHERE (sigalgs = 'any' OR sigalgs = 'ecdsa') AND tlsa_state = 'unusable') e
  JOIN mx_hosts h ON h.host = e.host
  CROSS JOIN UNNEST(h.tlsa_records) AS t(record)
) r
