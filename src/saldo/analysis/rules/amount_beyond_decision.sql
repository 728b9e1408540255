-- A payment larger than the decided monthly amount times the calendar months its period covers, in
-- the decision it refers to. Back pay for two months at the decided rate is lawful and left alone.
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor - d.amount_minor * p.months) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(p.benefit) AS benefit,
    max(d.amount_minor) AS decided_minor,
    max(p.amount_minor) AS paid_minor,
    max(p.months) AS months
FROM (
    SELECT
        *,
        year(period_end) * 12 + month(period_end) - year(period_start) * 12 - month(period_start) + 1 AS months
    FROM payments
) AS p
JOIN decisions AS d ON d.decision_key = p.decision_key
WHERE p.amount_minor > d.amount_minor * p.months
GROUP BY p.payee_key, p.decision_key
