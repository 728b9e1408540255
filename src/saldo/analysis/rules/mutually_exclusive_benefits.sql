-- Two benefits the catalogue says exclude each other, paid to the same person for overlapping
-- periods. The amount at risk is the smaller of the two payments of each pair.
WITH excluding AS (
    SELECT *
    FROM payments
    WHERE benefit IN (SELECT benefit FROM benefit_exclusions)
),
pairs AS (
    SELECT
        a.payee_key,
        a.payment_id AS first_id,
        b.payment_id AS second_id,
        a.benefit AS first_benefit,
        b.benefit AS second_benefit,
        least(a.amount_minor, b.amount_minor) AS at_risk,
        a.currency
    FROM excluding AS a
    JOIN excluding AS b
      ON a.payee_key = b.payee_key
     AND a.benefit < b.benefit
     AND a.period_start <= b.period_end
     AND b.period_start <= a.period_end
    JOIN benefit_exclusions AS x ON x.benefit = a.benefit AND x.excluded_benefit = b.benefit
)
SELECT
    payee_key AS subject_key,
    list_sort(list_distinct(list_concat(list(first_id), list(second_id)))) AS payment_ids,
    sum(at_risk) AS amount_at_risk_minor,
    min(currency) AS currency,
    min(first_benefit) AS first_benefit,
    min(second_benefit) AS second_benefit,
    count(*) AS overlapping_pairs
FROM pairs
GROUP BY payee_key
