-- A means-tested decision whose declared monthly income is far below what other public payers paid
-- the same person in income-replacing benefits over the decision's months: more than $ratio times
-- the declared income plus $margin_minor a month.
WITH means AS (
    SELECT
        d.*,
        (year(d.period_end) * 12 + month(d.period_end)) - (year(d.period_start) * 12 + month(d.period_start)) + 1
            AS months
    FROM decisions AS d
    JOIN benefits AS b ON b.code = d.benefit
    WHERE b.means_tested
      AND d.declared_income_minor IS NOT NULL
),
public_income AS (
    SELECT m.decision_key, sum(p.amount_minor) AS other_minor
    FROM means AS m
    JOIN payments AS p
      ON p.payee_key = m.payee_key
     AND p.payer_id <> m.payer_id
     AND p.period_start >= m.period_start
     AND p.period_start <= m.period_end
    JOIN benefits AS b ON b.code = p.benefit
    WHERE b.income_replacing
    GROUP BY m.decision_key
)
SELECT
    m.payee_key AS subject_key,
    list_sort(list(p.payment_id)) AS payment_ids,
    sum(p.amount_minor) AS amount_at_risk_minor,
    min(p.currency) AS currency,
    min(m.benefit) AS benefit,
    min(m.declared_income_minor) AS declared_income_minor,
    min(CAST(floor(i.other_minor / m.months) AS BIGINT)) AS other_public_income_minor
FROM means AS m
JOIN public_income AS i ON i.decision_key = m.decision_key
JOIN payments AS p ON p.decision_key = m.decision_key
WHERE i.other_minor / m.months > m.declared_income_minor * $ratio + $margin_minor
GROUP BY m.payee_key, m.decision_key
