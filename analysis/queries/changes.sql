-- What changed from scan $1 to scan $2, by kind: domains that gained or lost DANE protection, MX hosts that newly fail DANE and those failing before that pass now, with the first $3 subjects of each kind, sorted. A host fails DANE when its secure TLSA records do not authenticate it, or when its TLSA lookup is bogus or indeterminate (tlsa_state unusable: DANE senders defer, RFC 7672 §2.2).
WITH protected AS (
  SELECT scan_id, domain AS subject FROM all_domains WHERE mx_secure AND tlsa_all_mx AND dane = 'all'
), failing AS (
  SELECT scan_id, host AS subject FROM all_mx_hosts
  WHERE tlsa_state = 'unusable' OR (tlsa_state = 'dane' AND dane_status IN ('fail', 'no_usable_records', 'transport_failed'))
), passing AS (
  SELECT scan_id, host AS subject FROM all_mx_hosts WHERE dane_status = 'pass'
), changes AS (
  SELECT 'gained' AS kind, subject FROM (SELECT subject FROM protected WHERE scan_id = $2 EXCEPT SELECT subject FROM protected WHERE scan_id = $1) x
  UNION ALL
  SELECT 'lost', subject FROM (SELECT subject FROM protected WHERE scan_id = $1 EXCEPT SELECT subject FROM protected WHERE scan_id = $2) x
  UNION ALL
  SELECT 'new_failing', subject FROM (SELECT subject FROM failing WHERE scan_id = $2 EXCEPT SELECT subject FROM failing WHERE scan_id = $1) x
  UNION ALL
  SELECT 'fixed', subject FROM (SELECT subject FROM failing WHERE scan_id = $1 INTERSECT SELECT subject FROM passing WHERE scan_id = $2) x
)
SELECT kind, n, subject FROM (
  SELECT kind, subject, count(*) OVER (PARTITION BY kind) AS n, row_number() OVER (PARTITION BY kind ORDER BY subject) AS k FROM changes
) c
WHERE k <= $3
ORDER BY kind, subject
