-- id: dane-ta-name-mismatch
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7672 §3.2.2
-- description: Under a DANE-TA record the server's certificate names neither the TLSA base domain nor the MX host name.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address, 'TLSA base domain ' || tlsa_base_domain AS evidence
FROM endpoints
WHERE dane_status = 'fail' AND dane_reason = 'name_mismatch'
