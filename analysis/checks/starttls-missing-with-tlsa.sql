-- id: starttls-missing-with-tlsa
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7672 §2.2; RFC 3207
-- description: The host publishes secure TLSA records but does not offer STARTTLS, or refuses it: DANE senders will not deliver.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address,
       dane_reason || CASE WHEN reply_code > 0 THEN ' (' || CAST(reply_code AS VARCHAR) || ')' ELSE '' END AS evidence
FROM endpoints
WHERE dane_status = 'transport_failed' AND dane_reason IN ('starttls_not_offered', 'starttls_rejected')
