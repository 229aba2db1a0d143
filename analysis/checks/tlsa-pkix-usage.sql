-- id: tlsa-pkix-usage
-- unit: record
-- severity: weakens_security
-- source: RFC 7672 §3.1.3
-- description: A TLSA record with usage 0 (PKIX-TA) or 1 (PKIX-EE): SMTP clients do not use them, so it authenticates nothing on port 25.
SELECT CAST(NULL AS VARCHAR) AS domain, h.host, CAST(NULL AS VARCHAR) AS address, r.rec AS evidence
FROM mx_hosts h CROSS JOIN UNNEST(h.tlsa_records) AS r(rec)
WHERE h.tlsa_state <> 'skipped' AND split_part(r.rec, ' ', 1) IN ('0', '1')
