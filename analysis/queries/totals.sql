-- The scan counted in every unit: domains (valid names), MX hosts, endpoints, TLSA RRsets (hosts with TLSA records) and TLSA records.
SELECT
  (SELECT count(*) FROM domains WHERE domain <> '') AS domains,
  (SELECT count(*) FROM mx_hosts) AS mx_hosts,
  (SELECT count(*) FROM endpoints) AS endpoints,
  (SELECT count(*) FROM mx_hosts WHERE len(tlsa_records) > 0) AS tlsa_rrsets,
  (SELECT coalesce(sum(len(tlsa_records)), 0) FROM mx_hosts) AS tlsa_records
