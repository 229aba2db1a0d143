-- id: null-mx-mixed
-- unit: domain
-- severity: advice
-- source: RFC 7505 §3
-- description: A null MX ('MX 0 .') stands beside other MX records; it must be the only one.
SELECT domain, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS address, array_to_string(mx_records, '; ') AS evidence
FROM domains
WHERE mx_kind = 'mixed_null_mx'
