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
      AND DATE_FORMAT(`t0`.`CREATED_AT`, '%Y-%m-01') > TIMESTAMP('2024-01-01T00:00:00')
  ) AS `t1`
  GROUP BY
    1
) AS `t2`
ORDER BY
  CASE WHEN `t2`.`CREATED_AT` IS NULL THEN 1 ELSE 0 END, `t2`.`CREATED_AT` ASC
LIMIT 10001
