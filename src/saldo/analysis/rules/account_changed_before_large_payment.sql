-- A payment at least $factor times the payee's usual amount of the same benefit from the same payer,
-- to an account the payee was first paid to at most $days days before, when the payee had been paid
-- to another account earlier. Needs at least $min_history earlier payments to know what is usual;
-- the usual amount is their average (Spark has no windowed median).
WITH people AS (
    SELECT *
    FROM payments
    WHERE payee_kind = 'person'
),
series AS (
    SELECT
        *,
        avg(amount_minor) OVER (
            PARTITION BY payee_key, payer_id, benefit ORDER BY period_start, payment_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS usual_minor,
        count(*) OVER (
            PARTITION BY payee_key, payer_id, benefit ORDER BY period_start, payment_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier
    FROM people
),
first_use AS (
    SELECT payee_key, account_key, min(due_date) AS first_paid
    FROM people
    GROUP BY payee_key, account_key
),
first_ever AS (
    SELECT payee_key, min(due_date) AS first_paid
    FROM people
    GROUP BY payee_key
)
SELECT
    s.payee_key AS subject_key,
    list_sort(list(s.payment_id)) AS payment_ids,
    sum(s.amount_minor - CAST(floor(s.usual_minor) AS BIGINT)) AS amount_at_risk_minor,
    min(s.currency) AS currency,
    min(u.first_paid) AS account_first_paid,
    max(s.amount_minor) AS paid_minor,
    max(CAST(floor(s.usual_minor) AS BIGINT)) AS usual_minor
FROM series AS s
JOIN first_use AS u ON u.payee_key = s.payee_key AND u.account_key = s.account_key
JOIN first_ever AS f ON f.payee_key = s.payee_key
WHERE s.earlier >= $min_history
  AND s.amount_minor >= $factor * s.usual_minor
  AND u.first_paid > f.first_paid
  AND s.due_date <= u.first_paid + $days
GROUP BY s.payee_key
