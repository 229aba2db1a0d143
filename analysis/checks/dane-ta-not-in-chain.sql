-- id: dane-ta-not-in-chain
-- unit: endpoint
-- severity: delivery_fails
-- source: RFC 7671 §5.2.2; RFC 7672 §3.1.2; article: usage 2 needs the full chain
-- description: A DANE-TA (usage 2) record names a trust anchor the server does not send, so no DANE sender can authenticate the server.
SELECT CAST(NULL AS VARCHAR) AS domain, host, address,
       'sigalgs ' || sigalgs || ', chain of ' || CAST(chain_length AS VARCHAR) || ', near miss ' || coalesce(dane_near_miss, '') AS evidence
FROM endpoints
WHERE dane_status = 'fail' AND dane_reason = 'ta_not_in_chain'
