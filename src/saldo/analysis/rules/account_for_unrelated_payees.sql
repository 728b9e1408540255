-- One account receiving payments for people of at least $min_households different households.
-- A household sharing an account, and a guardian receiving for a child, count as one household; a
-- person paid under an earlier samordningsnummer counts in their own household. A person whom the
-- register of representatives says someone else acts for (a trustee, an administrator, a guardian)
-- during the payment's period counts in their representative's group: a trustee's client account
-- receives lawfully for many unrelated people.
-- The payments flagged are those of every household but the one the account pays most.
WITH represented AS (
    SELECT
        p.payment_id,
        min(r.representative_key) AS representative_key
    FROM payments AS p
    JOIN representations AS r
        ON r.represented_key = p.payee_key
        AND r.valid_from <= p.period_end
        AND (r.valid_until IS NULL OR r.valid_until >= p.period_start)
    GROUP BY p.payment_id
),
receivers AS (
    SELECT
        p.account_key,
        p.payment_id,
        p.amount_minor,
        p.currency,
        coalesce('represented by ' || x.representative_key, s.household_key, e.household_key, p.payee_key) AS household
    FROM payments AS p
    LEFT JOIN represented AS x ON x.payment_id = p.payment_id
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
