-- Endpoints where no usable record matched, by nearest miss (Lee et al., USENIX Security 2022).
SELECT dane_reason, dane_near_miss, count(*) AS n
FROM endpoints
WHERE dane_status IN ('fail', 'no_usable_records')
GROUP BY dane_reason, dane_near_miss
ORDER BY 3 DESC, 1, 2
