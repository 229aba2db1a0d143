-- id: dnssec-bogus-mx
-- unit: domain
-- severity: delivery_fails
-- source: RFC 4035 §5.5; RFC 7672 §2.2.1
-- description: The domain's MX RRset is bogus: validating senders cannot route mail to it at all.
SELECT domain, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS address, mx_dnssec_reason AS evidence
FROM domains
WHERE mx_dnssec = 'bogus'
