-- id: tip-mx-zone-unsigned
-- unit: mx_host
-- severity: advice
-- source: article: sign the MX host's zone; RFC 7672 §2.2
-- description: The MX host's address records are not DNSSEC-signed (insecure), so DANE senders do not use TLSA for it, whatever it publishes.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address, coalesce(a_dnssec_reason, '') AS evidence
FROM mx_hosts
WHERE a_dnssec = 'insecure'
