-- The same benefit (a grant, a school fee, a care fee) for overlapping periods paid to an
-- organisation under its Swedish organisation number and under another organisation number that
-- identity linkage (Splink) joined to it: the same name and Bankgiro under a foreign company's
-- number, say. The amount at risk is what was paid under the other number, each payment once.
WITH other AS MATERIALIZED (  -- keeps DuckDB from joining the two payment scans first
    SELECT l.organisation_key, b.payment_id, b.benefit, b.period_start, b.period_end, b.amount_minor, b.currency
    FROM organisation_links AS l
    JOIN payments AS b ON b.payee_key = l.linked_key
),
paid_again AS (
    SELECT
        o.organisation_key,
        o.payment_id AS other_id,
        min(o.amount_minor) AS amount_minor,
        min(o.currency) AS currency,
        min(o.benefit) AS benefit,
        list(a.payment_id) AS own_ids
    FROM other AS o
    JOIN payments AS a
      ON a.payee_key = o.organisation_key
     AND a.benefit = o.benefit
     AND a.period_start <= o.period_end
     AND o.period_start <= a.period_end
    GROUP BY o.organisation_key, o.payment_id
)
SELECT
    organisation_key AS subject_key,
    list_sort(list_distinct(list_concat(flatten(list(own_ids)), list(other_id)))) AS payment_ids,
    sum(amount_minor) AS amount_at_risk_minor,
    min(currency) AS currency,
    min(benefit) AS benefit,
    count(*) AS payments_paid_again
FROM paid_again
GROUP BY organisation_key
