-- One account receiving payments for people of at least $min_households different households.
-- A household sharing an account, and a guardian receiving for a child, count as one household; a
-- person paid under an earlier samordningsnummer counts in their own household.
-- The payments flagged are those of every household but the one the account pays most.
WITH receivers AS (
    SELECT
        p.account_key,
        p.payment_id,
        p.amount_minor,
        p.currency,
        coalesce(s.household_key, e.household_key, p.payee_key) AS household
    FROM payments AS p
    LEFT JOIN persons AS s ON s.person_key = p.payee_key
    LEFT JOIN persons AS e ON e.previous_key = p.payee_key
    WHERE p.payee_kind = 'person'
),
households AS (
    SELECT account_key, household, count(*) AS received
    FROM receivers
    GROUP BY account_key, household
),
shared AS (
    SELECT account_key
    FROM households
    GROUP BY account_key
    HAVING count(*) >= $min_households
),
main AS (
    SELECT h.account_key, h.household
    FROM households AS h
    JOIN shared AS s ON s.account_key = h.account_key
    QUALIFY row_number() OVER (PARTITION BY h.account_key ORDER BY h.received DESC, h.household) = 1
)
SELECT
    r.account_key AS subject_key,
    list_sort(list(r.payment_id)) AS payment_ids,
    sum(r.amount_minor) AS amount_at_risk_minor,
    min(r.currency) AS currency,
    count(DISTINCT r.household) + 1 AS households
FROM receivers AS r
JOIN main AS m ON m.account_key = r.account_key AND r.household <> m.household
GROUP BY r.account_key
