-- id: mx-target-cname
-- unit: mx_host
-- severity: advice
-- source: RFC 2181 §10.3; RFC 5321 §5.1
-- description: An MX target is an alias (CNAME): not allowed, and the TLSA base domain becomes the alias's target.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address, 'canonical ' || canonical AS evidence
FROM mx_hosts
WHERE canonical <> ''
