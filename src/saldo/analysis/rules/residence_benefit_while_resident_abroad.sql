-- A residence-conditioned benefit for a period that starts after an institution abroad determined
-- that the person lives there (H003), when the population register records no emigration (if it
-- does, benefit_after_emigration speaks) and no move back after that date.
WITH abroad AS (
    SELECT person_key, min(start_date) AS since, min(country) AS country, min(institution) AS institution
    FROM cross_border_facts
    WHERE kind = 'residence_abroad'
    GROUP BY person_key
)
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(p.benefit) AS benefit,
    min(a.since) AS resident_abroad_since,
    min(a.country) AS country,
    min(a.institution) AS institution,
    count(*) AS payments
FROM payments AS p
JOIN abroad AS a ON a.person_key = p.payee_key
JOIN benefits AS b ON b.code = p.benefit
LEFT JOIN persons AS s ON s.person_key = p.payee_key
WHERE b.residence_conditioned
  AND p.period_start > a.since
  AND s.emigration_date IS NULL
  AND (s.immigration_date IS NULL OR s.immigration_date <= a.since)
GROUP BY p.payee_key
