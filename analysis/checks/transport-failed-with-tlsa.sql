-- id: transport-failed-with-tlsa
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7672 §2.2
-- description: The host publishes secure TLSA records but the probe got no TLS session (handshake failure, timeout, refused or unreachable address): DANE senders defer.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address,
       dane_reason || CASE WHEN tls_alert <> '' THEN ' (alert ' || tls_alert || ')' ELSE '' END AS evidence
FROM endpoints
WHERE dane_status = 'transport_failed' AND dane_reason NOT IN ('starttls_not_offered', 'starttls_rejected')
