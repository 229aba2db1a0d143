-- Per check: the domains it affects (the temporary table affected, made by affected.sql).
SELECT "check", count(*) AS domains FROM affected GROUP BY 1
