-- A benefit that replaces a whole month's income (unemployment benefit, activity support, sickness
-- or activity compensation) paid for a month in which employers declared earnings above the
-- threshold. Small earnings beside the benefit are allowed and stay under the threshold.
WITH paid AS (
    SELECT payee_key, period_month, payment_id, amount_minor, currency, benefit
    FROM payments
    WHERE benefit IN ('AKA', 'AST', 'SJE', 'AKE')
),
earned AS (
    -- only the months of people paid such a benefit are summed (a semi join), not the whole register
    SELECT i.person_key, i.month, sum(i.amount_minor) AS earned_minor
    FROM income AS i
    SEMI JOIN paid AS p ON i.person_key = p.payee_key AND i.month = p.period_month
    GROUP BY i.person_key, i.month
)
SELECT
    p.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(p.benefit) AS benefit,
    min(p.period_month) AS month,
    max(e.earned_minor) AS earned_minor,
    count(*) AS payments
FROM paid AS p
JOIN earned AS e ON e.person_key = p.payee_key AND e.month = p.period_month
WHERE e.earned_minor > $threshold_minor
GROUP BY p.payee_key
