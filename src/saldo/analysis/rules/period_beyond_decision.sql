-- A payment for a period outside the period of the decision it refers to.
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(p.benefit) AS benefit,
    min(d.period_start) AS decided_from,
    max(d.period_end) AS decided_until,
    min(p.period_start) AS paid_from,
    max(p.period_end) AS paid_until
FROM payments AS p
JOIN decisions AS d ON d.decision_key = p.decision_key
WHERE p.period_start > d.period_end
   OR p.period_end < d.period_start
GROUP BY p.payee_key, p.decision_key
