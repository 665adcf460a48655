SELECT
  *
FROM (
  SELECT
    (
      (
        DAYOFWEEK("t1"."CREATED_AT") + 6
      ) % 7
    ) + 1 AS "CREATED_AT",
    AVG("t1"."QUANTITY") AS "avg"
  FROM (
    SELECT
      *
    FROM "main"."ORDERS" AS "t0"
    WHERE
      EXTRACT(month FROM "t0"."CREATED_AT") IN (1, 2)
      AND DATE_TRUNC('MONTH', "t0"."CREATED_AT") > MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."CREATED_AT" ASC
LIMIT 10001
