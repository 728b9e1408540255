-- The same benefit for overlapping periods paid to a person under their personnummer and under another
-- identifier that is the same person: the samordningsnummer the population register says they had
-- before, or a samordningsnummer or foreign identity number that identity linkage (Splink) joined to
-- them. The amount at risk is what was paid under the other identifier.
WITH linked AS (
    SELECT person_key, previous_key
    FROM persons
    WHERE previous_key IS NOT NULL
    UNION
    SELECT person_key, linked_key AS previous_key
    FROM person_links
),
earlier AS MATERIALIZED (  -- keeps DuckDB from joining the two payment scans first
    SELECT l.person_key, b.payment_id, b.benefit, b.period_start, b.period_end, b.amount_minor, b.currency
    FROM linked AS l
    JOIN payments AS b ON b.payee_key = l.previous_key
)
SELECT
    b.person_key AS subject_key,
    list_sort(list_distinct(list_concat(list(a.payment_id), list(b.payment_id)))) AS payment_ids,
    sum(b.amount_minor) AS amount_at_risk_minor,
    min(b.currency) AS currency,
    min(a.benefit) AS benefit,
    count(*) AS overlapping_pairs
FROM earlier AS b
JOIN payments AS a
  ON a.payee_key = b.person_key
 AND a.benefit = b.benefit
 AND a.period_start <= b.period_end
 AND b.period_start <= a.period_end
GROUP BY b.person_key
