-- A residence-conditioned benefit for a period that starts after the payee's right of residence
-- (residence permit) ran out.
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(s.residence_permit_until) AS permit_until,
    min(p.period_start) AS first_period_start,
    count(*) AS payments
FROM payments AS p
JOIN persons AS s ON s.person_key = p.payee_key
JOIN benefits AS b ON b.code = p.benefit
WHERE b.residence_conditioned
  AND s.residence_permit_until IS NOT NULL
  AND p.period_start > s.residence_permit_until
GROUP BY p.payee_key
