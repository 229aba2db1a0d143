-- id: tip-domain-unsigned
-- unit: domain
-- severity: advice
-- source: article: sign the domain; RFC 7672 §2.2.1
-- description: The domain receives mail but its MX RRset is not DNSSEC-signed (insecure), so DANE cannot protect it whatever its MX hosts publish.
SELECT domain, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS address, coalesce(mx_dnssec_reason, '') AS evidence
FROM domains
WHERE mx_kind IN ('mx', 'mixed_null_mx') AND mx_dnssec = 'insecure'
