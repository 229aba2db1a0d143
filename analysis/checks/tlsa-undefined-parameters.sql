-- id: tlsa-undefined-parameters
-- unit: record
-- severity: weakens_security
-- source: RFC 6698 §2.1; RFC 7218; RFC 7671 §4
-- description: A TLSA record with an undefined usage, selector or matching type, or association data of the wrong length: unusable.
SELECT CAST(NULL AS VARCHAR) AS domain, h.host, CAST(NULL AS VARCHAR) AS address, r.rec AS evidence
FROM mx_hosts h CROSS JOIN UNNEST(h.tlsa_records) AS r(rec)
WHERE h.tlsa_state <> 'skipped' AND (split_part(r.rec, ' ', 1) NOT IN ('0', '1', '2', '3')
   OR split_part(r.rec, ' ', 2) NOT IN ('0', '1')
   OR split_part(r.rec, ' ', 3) NOT IN ('0', '1', '2')
   OR (split_part(r.rec, ' ', 3) = '1' AND length(replace(split_part(r.rec, ' ', 4), ' ', '')) <> 64)
   OR (split_part(r.rec, ' ', 3) = '2' AND length(replace(split_part(r.rec, ' ', 4), ' ', '')) <> 128))
