-- Failing DANE counted in every unit, side by side: what fails, out of what DANE applies to.
SELECT 'domain' AS unit,
  sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane <> 'all' THEN 1 ELSE 0 END) AS failing,
  sum(CASE WHEN mx_secure AND tlsa_all_mx THEN 1 ELSE 0 END) AS applicable
FROM domains
UNION ALL
SELECT 'mx_host',
  sum(CASE WHEN tlsa_state = 'dane' AND dane_status <> 'pass' THEN 1 ELSE 0 END),
  sum(CASE WHEN tlsa_state = 'dane' THEN 1 ELSE 0 END)
FROM mx_hosts
UNION ALL
SELECT 'endpoint',
  sum(CASE WHEN dane_status IN ('fail', 'no_usable_records', 'transport_failed') THEN 1 ELSE 0 END),
  sum(CASE WHEN dane_status IN ('pass', 'fail', 'no_usable_records', 'transport_failed') THEN 1 ELSE 0 END)
FROM endpoints
UNION ALL
SELECT 'tlsa_rrset',
  sum(CASE WHEN tlsa_state = 'dane' AND dane_status IN ('fail', 'no_usable_records') THEN 1 ELSE 0 END),
  sum(CASE WHEN tlsa_state = 'dane' THEN 1 ELSE 0 END)
FROM mx_hosts
UNION ALL
SELECT 'record',
  sum(CASE WHEN u.reason <> '' THEN 1 ELSE 0 END),
  count(*)
FROM (SELECT host, tlsa_unusable FROM endpoints WHERE sigalgs = 'any' OR sigalgs = 'ecdsa') e
CROSS JOIN UNNEST(e.tlsa_unusable) AS u(reason)
