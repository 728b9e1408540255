-- The same payer paying the same payee the same benefit, amount and period more than once.
-- The amount at risk is every copy after the first.
SELECT
    payee_key AS subject_key,
    list_sort(list(payment_id)) AS payment_ids,
    sum(amount_minor) - min(amount_minor) AS amount_at_risk_minor,
    min(currency) AS currency,
    benefit,
    period_start,
    amount_minor,
    count(*) AS copies
FROM payments
GROUP BY payer_id, payee_key, benefit, period_start, period_end, amount_minor
HAVING count(*) > 1
