-- Endpoints where no usable record matched, by nearest miss (Lee et al., USENIX Security 2022); an endpoint whose records went stale after a rollover since the previous scan (stale_endpoints) is its own class, stale_after_rollover.
SELECT e.dane_reason, CASE WHEN s.host IS NOT NULL THEN 'stale_after_rollover' ELSE e.dane_near_miss END AS near_miss, count(*) AS n
FROM endpoints e
LEFT JOIN stale_endpoints s ON s.host = e.host AND s.address = e.address AND s.sigalgs = e.sigalgs
WHERE e.dane_status IN ('fail', 'no_usable_records')
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
