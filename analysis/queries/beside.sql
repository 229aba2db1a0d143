-- MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) beside DANE, per domain.
SELECT
  sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane = 'all' THEN 1 ELSE 0 END) AS dane,
  sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane = 'all' AND mta_sts_published THEN 1 ELSE 0 END) AS dane_mta_sts,
  sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane = 'all' AND tlsrpt_published THEN 1 ELSE 0 END) AS dane_tlsrpt,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND mta_sts_published THEN 1 ELSE 0 END) AS mta_sts,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND tlsrpt_published THEN 1 ELSE 0 END) AS tlsrpt
FROM domains
