-- id: tlsa-lookup-unusable
-- unit: mx_host
-- severity: delivery_fails
-- source: RFC 7672 §2.2
-- description: The TLSA lookup is bogus or failed (indeterminate): a DANE sender must defer delivery to this host, unlike a host without TLSA.
SELECT CAST(NULL AS VARCHAR) AS domain, host, CAST(NULL AS VARCHAR) AS address,
       tlsa_dnssec || ' ' || coalesce(tlsa_dnssec_reason, '') || CASE WHEN tlsa_failure <> '' THEN ' (' || tlsa_failure || ')' ELSE '' END AS evidence
FROM mx_hosts
WHERE tlsa_state = 'unusable'
