-- A benefit that replaces a whole month's income (unemployment benefit, activity support, sickness
-- or activity compensation) paid for a month in which employers declared earnings above the
-- threshold. Small earnings beside the benefit are allowed and stay under the threshold.
WITH earned AS (
    SELECT person_key, month, sum(amount_minor) AS earned_minor
    FROM income
    GROUP BY person_key, month
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
FROM payments AS p
JOIN earned AS e ON e.person_key = p.payee_key AND e.month = p.period_month
WHERE p.benefit IN ('AKA', 'AST', 'SJE', 'AKE')
  AND e.earned_minor > $threshold_minor
GROUP BY p.payee_key
