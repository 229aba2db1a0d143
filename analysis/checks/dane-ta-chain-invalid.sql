-- id: dane-ta-chain-invalid
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7671 §5.2; RFC 7672 §3.1.2
-- description: The trust anchor of a DANE-TA record is sent but no valid signature path leads from it to the leaf, or no certificate was sent.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address, dane_reason AS evidence
FROM endpoints
WHERE dane_status = 'fail' AND dane_reason IN ('chain_invalid', 'no_chain')
