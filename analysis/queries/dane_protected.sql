-- The DANE-protected domains (RFC 7672 §2.2.1: secure MX RRset, secure TLSA at every MX host, every endpoint passing): the base of the providers' concentration.
SELECT count(*) FROM domains WHERE mx_secure AND tlsa_all_mx AND dane = 'all'
