-- DANE by TLD, per domain.
SELECT regexp_extract(domain, '[^.]+$') AS tld,
  count(*) AS domains,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') THEN 1 ELSE 0 END) AS with_mx,
  sum(CASE WHEN mx_secure THEN 1 ELSE 0 END) AS mx_secure,
  sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane = 'all' THEN 1 ELSE 0 END) AS dane_all,
  sum(CASE WHEN dane = 'some' THEN 1 ELSE 0 END) AS dane_some
FROM domains
WHERE domain <> ''
GROUP BY 1
ORDER BY 2 DESC, 1
