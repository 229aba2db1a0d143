-- id: tip-tlsrpt-missing
-- unit: domain
-- severity: advice
-- source: article: publish TLS-RPT beside DANE; RFC 8460
-- description: The domain is protected by DANE but publishes no TLS-RPT record, so it hears nothing when senders fail to authenticate its servers.
SELECT domain, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS address, CASE WHEN mta_sts_published THEN 'MTA-STS published' ELSE 'no MTA-STS either' END AS evidence
FROM domains
WHERE dane = 'all' AND mx_secure AND NOT tlsrpt_published
