-- Bogus and indeterminate DNSSEC by RRset and reason: MX per domain, A, AAAA and TLSA per MX host.
SELECT rrset, status, reason, count(*) AS n FROM (
  SELECT 'MX' AS rrset, mx_dnssec AS status, mx_dnssec_reason AS reason FROM domains
  UNION ALL SELECT 'A', a_dnssec, a_dnssec_reason FROM mx_hosts
  UNION ALL SELECT 'AAAA', aaaa_dnssec, aaaa_dnssec_reason FROM mx_hosts
  UNION ALL SELECT 'TLSA', tlsa_dnssec, tlsa_dnssec_reason FROM mx_hosts
) x
WHERE status IN ('bogus', 'indeterminate')
GROUP BY rrset, status, reason
ORDER BY 4 DESC, 1, 2, 3
