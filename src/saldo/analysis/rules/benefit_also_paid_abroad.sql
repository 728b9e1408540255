-- An unemployment, sickness or parental benefit paid here for a period that overlaps one of the same
-- kind an institution abroad says it pays (H002): under Regulation 883/2004 one state is competent
-- for these at a time. Pensions (paid pro rata by every state the person worked in) and family
-- benefits (paid with priority rules and differential supplements) are left alone.
WITH abroad AS (
    SELECT
        person_key,
        benefit_type,
        min(start_date) AS start_date,
        max(coalesce(end_date, DATE '9999-12-31')) AS end_date,
        min(country) AS country,
        min(institution) AS institution
    FROM cross_border_facts
    WHERE kind = 'benefit_abroad' AND start_date IS NOT NULL
    GROUP BY person_key, benefit_type
),
here AS (
    SELECT
        *,
        CASE benefit
            WHEN 'AKA' THEN 'unemployment'
            WHEN 'AST' THEN 'unemployment'
            WHEN 'SJP' THEN 'sickness'
            WHEN 'FPG' THEN 'parental'
        END AS benefit_type
    FROM payments
)
SELECT
    h.payee_key AS subject_key,
    list_sort(list(h.payment_id)) AS payment_ids,
    sum(h.amount_minor) AS amount_at_risk_minor,
    min(h.currency) AS currency,
    min(h.benefit) AS benefit,
    min(a.benefit_type) AS benefit_type,
    min(a.country) AS country,
    min(a.institution) AS institution,
    min(a.start_date) AS abroad_from,
    count(*) AS payments
FROM here AS h
JOIN abroad AS a
  ON a.person_key = h.payee_key
 AND a.benefit_type = h.benefit_type
 AND a.start_date <= h.period_end
 AND h.period_start <= a.end_date
GROUP BY h.payee_key
