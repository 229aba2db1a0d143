-- One scan's headline figures, per domain, among every dataset given (the all_ views): scan $1.
SELECT count(*) AS domains,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') THEN 1 ELSE 0 END) AS with_mx,
  sum(CASE WHEN mx_secure THEN 1 ELSE 0 END) AS mx_secure,
  sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane = 'all' THEN 1 ELSE 0 END) AS dane_all
FROM all_domains
WHERE scan_id = $1 AND domain <> ''
