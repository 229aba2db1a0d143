-- The domains each check affects: its domain findings, and the domains whose MX hosts its host, endpoint and record findings name.
SELECT "check", domain FROM findings WHERE domain <> ''
UNION
SELECT f."check", d.domain
FROM (SELECT DISTINCT "check", host FROM findings WHERE host <> '') f
JOIN (SELECT domain, m.host FROM domains CROSS JOIN UNNEST(mx_hosts) AS m(host)) d ON d.host = f.host
