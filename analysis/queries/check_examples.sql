-- Per check: the first affected domains, sorted, at most $1 of them.
SELECT "check", domain
FROM (SELECT "check", domain, row_number() OVER (PARTITION BY "check" ORDER BY domain) AS k FROM affected) a
WHERE k <= $1
ORDER BY 1, 2
