-- Per check: its findings, and the distinct MX hosts they name (the count of a check per mx_host).
SELECT "check", count(*) AS findings, count(DISTINCT host) AS hosts FROM findings GROUP BY 1
