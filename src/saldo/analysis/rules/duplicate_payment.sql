-- The same payer paying the same payee the same benefit, amount and period more than once under
-- the same decision. Payments under different decisions are not duplicates: maintenance support for
-- two children, each with a decision of its own, paid to one parent is two lawful payments a month.
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
GROUP BY payer_id, payee_key, decision_key, benefit, period_start, period_end, amount_minor
HAVING count(*) > 1
