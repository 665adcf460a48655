SELECT
  *
FROM (
  SELECT
    DATE_TRUNC('QUARTER', "t1"."CREATED_AT") AS "CREATED_AT",
    SUM("t1"."TOTAL") AS "Bulk Revenue"
  FROM (
    SELECT
      *
    FROM "main"."ORDERS" AS "t0"
    WHERE
      "t0"."QUANTITY" > 2
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."CREATED_AT" ASC
LIMIT 10001
