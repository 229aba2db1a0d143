-- id: tlsa-no-usable-records
-- unit: endpoint
-- severity: weakens_security
-- source: RFC 7672 §2.2, §3.1.3
-- description: TLSA records are published but none is usable on port 25 (only PKIX usages, undefined parameters, bad lengths): senders insist on TLS but cannot authenticate the server.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address, 'unusable: ' || array_to_string(tlsa_unusable, ',') AS evidence
FROM endpoints
WHERE dane_status = 'no_usable_records'
