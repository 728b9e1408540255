-- A payment larger than the monthly amount in the decision it refers to.
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor - d.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(p.benefit) AS benefit,
    max(d.amount_minor) AS decided_minor,
    max(p.amount_minor) AS paid_minor
FROM payments AS p
JOIN decisions AS d ON d.decision_key = p.decision_key
WHERE p.amount_minor > d.amount_minor
GROUP BY p.payee_key, p.decision_key
