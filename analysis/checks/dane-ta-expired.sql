-- id: dane-ta-expired
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7672 §3.1.2; RFC 5280 §4.1.2.5
-- description: Under a DANE-TA record the leaf or an intermediate certificate is outside its validity dates (DANE-EE ignores dates; DANE-TA does not).
SELECT CAST(NULL AS VARCHAR) AS domain, host, address, 'leaf days left ' || coalesce(CAST(leaf_days_left AS VARCHAR), '?') AS evidence
FROM endpoints
WHERE dane_status = 'fail' AND dane_reason = 'expired'
