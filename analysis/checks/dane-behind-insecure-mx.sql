-- id: dane-behind-insecure-mx
-- unit: domain
-- severity: advice
-- source: RFC 7672 §2.2.1; article: sign the domain too
-- description: Every MX host passes DANE but the domain's MX RRset is not secure, so senders cannot trust the MX host names and DANE does not apply.
SELECT domain, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS address, 'mx_dnssec ' || mx_dnssec AS evidence
FROM domains
WHERE dane = 'all' AND NOT mx_secure AND mx_dnssec <> 'not_validated'
