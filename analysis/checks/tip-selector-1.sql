-- id: tip-selector-1
-- unit: record
-- severity: advice
-- source: article: prefer selector 1 (SPKI); RFC 7671 §5.1
-- description: A DANE-EE record with selector 0 (the whole certificate) must change at every renewal; selector 1 (the public key) survives renewals that keep the key.
SELECT CAST(NULL AS VARCHAR) AS domain, h.host, CAST(NULL AS VARCHAR) AS address, r.rec AS evidence
FROM mx_hosts h CROSS JOIN UNNEST(h.tlsa_records) AS r(rec)
WHERE h.tlsa_state <> 'skipped' AND split_part(r.rec, ' ', 1) = '3' AND split_part(r.rec, ' ', 2) = '0'
