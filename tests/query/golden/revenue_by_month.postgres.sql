SELECT
  *
FROM (
  SELECT
    DATE_TRUNC('MONTH', "t0"."CREATED_AT") AS "CREATED_AT",
    SUM("t0"."TOTAL") AS "sum",
    COUNT(*) AS "count"
  FROM "main"."ORDERS" AS "t0"
  GROUP BY
    1
) AS "t1"
ORDER BY
  "t1"."sum" DESC NULLS LAST,
  "t1"."CREATED_AT" ASC
LIMIT 10001
