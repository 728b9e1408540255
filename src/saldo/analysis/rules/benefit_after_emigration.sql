-- A residence-conditioned benefit for a period that starts after the payee emigrated (and has not
-- moved back).
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(s.emigration_date) AS emigration_date,
    min(p.benefit) AS benefit,
    count(*) AS payments
FROM payments AS p
JOIN persons AS s ON s.person_key = p.payee_key
JOIN benefits AS b ON b.code = p.benefit
WHERE b.residence_conditioned
  AND s.emigration_date IS NOT NULL
  AND p.period_start > s.emigration_date
  AND (s.immigration_date IS NULL OR s.immigration_date <= s.emigration_date)
GROUP BY p.payee_key
