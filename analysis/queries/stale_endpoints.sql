-- The view stale_endpoints: the endpoints (host, address, sigalgs) of the latest scan that fail DANE with no_match although in the previous scan (views prev_endpoints and prev_mx_hosts, empty without one) the same endpoint passed with the same TLSA records (compared as sets: DNS keeps no order) and it presents another leaf certificate now: stale TLSA records after a certificate or key rollover (RFC 7671 §8.1), not records that never matched.
-- The leaves are compared as DER: another certificate, whether or not its key changed (no SQL engine here parses the SPKI out of the DER).
SELECT DISTINCT e.host, e.address, e.sigalgs, p.scan_id AS prev_scan_id, ph.tlsa_records[p.dane_match_record + 1] AS prev_matched
FROM endpoints e
JOIN mx_hosts h ON h.host = e.host
JOIN prev_endpoints p ON p.host = e.host AND p.address = e.address AND p.sigalgs = e.sigalgs
JOIN prev_mx_hosts ph ON ph.host = e.host
WHERE e.dane_status = 'fail' AND e.dane_reason = 'no_match' AND p.dane_status = 'pass'
  AND list_sort(h.tlsa_records) = list_sort(ph.tlsa_records)
  AND e.chain[1] <> p.chain[1]
