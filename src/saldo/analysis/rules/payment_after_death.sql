-- Payments for a period that starts after the payee's recorded date of death.
-- A payment for the month in which the person died is not flagged: the period began while they lived.
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(s.death_date) AS death_date,
    min(p.period_start) AS first_period_start,
    count(*) AS payments
FROM payments AS p
JOIN persons AS s ON s.person_key = p.payee_key
WHERE s.death_date IS NOT NULL
  AND p.period_start > s.death_date
GROUP BY p.payee_key
