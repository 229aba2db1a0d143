-- The view domains_dane: every column of domains, and whether a DANE sender (RFC 7672 §2.2) insists on DANE at the domain's MX hosts, counting beside the hosts with secure TLSA (tlsa_state dane, mx_hosts_with_tlsa) those whose TLSA lookup is bogus or indeterminate (tlsa_state unusable: the sender defers delivery, a DANE failure, not an absence of DANE).
-- mx_hosts_tlsa_failed: MX hosts with tlsa_state unusable, counted where it matters, for the domains with a secure MX RRset whose hosts do not all have secure TLSA (0 for the others; unnesting only those keeps the view cheap). dane_every_mx: the MX RRset is secure and every MX host has secure TLSA or a failed TLSA lookup. dane_some_mx: the MX RRset is secure and some MX hosts, not all, do.
SELECT f.*,
  f.mx_secure AND NOT f.dane_every_mx AND f.mx_hosts_with_tlsa + f.mx_hosts_tlsa_failed > 0 AS dane_some_mx
FROM (
  SELECT e.*,
    e.mx_secure AND (e.tlsa_all_mx OR (e.mx_hosts_tlsa_failed > 0 AND e.mx_hosts_with_tlsa + e.mx_hosts_tlsa_failed = e.mx_host_count)) AS dane_every_mx
  FROM (
    SELECT d.*, coalesce(u.n, 0) AS mx_hosts_tlsa_failed
    FROM domains d
    LEFT JOIN (
      SELECT x.domain, count(*) AS n
      FROM (SELECT domain, m.host FROM domains CROSS JOIN UNNEST(mx_hosts) AS m(host) WHERE mx_secure AND NOT tlsa_all_mx) x
      JOIN mx_hosts h ON h.host = x.host
      WHERE h.tlsa_state = 'unusable'
      GROUP BY x.domain
    ) u ON u.domain = d.domain
  ) e
) f
