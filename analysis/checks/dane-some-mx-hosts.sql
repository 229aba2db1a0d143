-- id: dane-some-mx-hosts
-- unit: domain
-- severity: weakens_security
-- source: RFC 7672 §2.2.1
-- description: Some of the domain's MX hosts pass DANE and others do not: mail to the others is not protected.
SELECT domain, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS address, dane_reason AS evidence
FROM domains
WHERE dane = 'some'
