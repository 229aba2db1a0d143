-- id: tlsa-in-insecure-zone
-- unit: mx_host
-- severity: weakens_security
-- source: RFC 7672 §2.2; article: sign the MX zone
-- description: TLSA records are published in a zone that is not DNSSEC-signed (or not reached through a secure chain): senders ignore them.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address, 'tlsa_dnssec ' || tlsa_dnssec || ' ' || coalesce(tlsa_dnssec_reason, '') AS evidence
FROM mx_hosts
WHERE len(tlsa_records) > 0 AND tlsa_dnssec = 'insecure'
