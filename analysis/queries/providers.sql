-- Mail providers (the registrable domain of the MX host, in host_provider), by domains served.
SELECT p.provider,
  count(DISTINCT d.domain) AS domains,
  count(DISTINCT p.host) AS mx_hosts,
  count(DISTINCT CASE WHEN d.mx_secure AND d.tlsa_all_mx AND d.dane = 'all' THEN d.domain END) AS dane_domains,
  count(DISTINCT CASE WHEN h.dane_status = 'pass' THEN h.host END) AS hosts_passing,
  count(DISTINCT CASE WHEN h.tlsa_state = 'dane' THEN h.host END) AS hosts_with_tlsa,
  count(DISTINCT CASE WHEN h.tlsa_state = 'unusable' THEN h.host END) AS hosts_tlsa_lookup_failed
FROM domains d
CROSS JOIN UNNEST(d.mx_hosts) AS m(host)
JOIN host_provider p ON p.host = m.host
JOIN mx_hosts h ON h.host = m.host
GROUP BY p.provider
ORDER BY 2 DESC, 1
