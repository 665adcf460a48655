SELECT
  *
FROM (
  SELECT
    DATE_TRUNC('month', `t0`.`CREATED_AT`) AS `CREATED_AT`,
    SUM(`t0`.`TOTAL`) AS `sum`,
    COUNT(*) AS `count`
  FROM `main`.`ORDERS` AS `t0`
  GROUP BY
    1
) AS `t1`
ORDER BY
  `t1`.`sum` DESC,
  `t1`.`CREATED_AT` ASC NULLS LAST
LIMIT 10001
