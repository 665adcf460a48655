SELECT
  *
FROM (
  SELECT
    (
      (
        DAYOFWEEK(`t1`.`CREATED_AT`) + 5
      ) % 7
    ) + 1 AS `CREATED_AT`,
    AVG(`t1`.`QUANTITY`) AS `avg`
  FROM (
    SELECT
      *
    FROM `main`.`ORDERS` AS `t0`
    WHERE
      EXTRACT(month FROM `t0`.`CREATED_AT`) IN (1, 2)
      AND DATE_TRUNC('month', `t0`.`CREATED_AT`) > CAST('2024-01-01T00:00:00' AS TIMESTAMP)
  ) AS `t1`
  GROUP BY
    1
) AS `t2`
ORDER BY
  `t2`.`CREATED_AT` ASC NULLS LAST
LIMIT 10001
