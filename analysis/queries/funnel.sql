-- The adoption funnel, per domain (RFC 7672 §2.2): each stage a subset of the one before. An MX host whose TLSA lookup is bogus or indeterminate counts with the hosts that have secure TLSA (domains_dane): a DANE sender defers delivery to it, so the domain fails DANE rather than lacking it.
SELECT
  sum(CASE WHEN domain <> '' THEN 1 ELSE 0 END) AS scanned,
  sum(CASE WHEN domain <> '' AND mx_kind NOT IN ('unknown') AND failure NOT IN ('excluded', 'interrupted') THEN 1 ELSE 0 END) AS resolved,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') THEN 1 ELSE 0 END) AS with_mx,
  sum(CASE WHEN mx_kind = 'null_mx' THEN 1 ELSE 0 END) AS null_mx,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND mx_secure THEN 1 ELSE 0 END) AS mx_secure,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND dane_every_mx THEN 1 ELSE 0 END) AS tlsa_all,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND mx_secure AND tlsa_all_mx AND dane = 'all' THEN 1 ELSE 0 END) AS dane_all,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND dane_some_mx THEN 1 ELSE 0 END) AS tlsa_some,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND mx_secure AND mx_hosts_tlsa_failed > 0 THEN 1 ELSE 0 END) AS tlsa_failed,
  sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') AND NOT mx_secure AND dane = 'all' THEN 1 ELSE 0 END) AS dane_behind_insecure_mx
FROM domains_dane
