-- Payments for a period that starts after a death an institution abroad notified (H070), when the
-- population register holds no date of death (if it does, payment_after_death speaks).
-- A payment for the month in which the person died is not flagged: the period began while they lived.
WITH deaths AS (
    SELECT person_key, min(start_date) AS death_date, min(country) AS country, min(institution) AS institution
    FROM cross_border_facts
    WHERE kind = 'death'
    GROUP BY person_key
)
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(d.death_date) AS death_date,
    min(d.country) AS country,
    min(d.institution) AS institution,
    min(p.period_start) AS first_period_start,
    count(*) AS payments
FROM payments AS p
JOIN deaths AS d ON d.person_key = p.payee_key
LEFT JOIN persons AS s ON s.person_key = p.payee_key
WHERE p.period_start > d.death_date
  AND s.death_date IS NULL
GROUP BY p.payee_key
