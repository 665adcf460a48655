SELECT
  *
FROM (
  SELECT
    `t7`.`__r2__STATE` AS `STATE`,
    SUM(`t7`.`TOTAL`) AS `sum`
  FROM (
    SELECT
      `t6`.`ID`,
      `t6`.`USER_ID`,
      `t6`.`PRODUCT_ID`,
      `t6`.`SUBTOTAL`,
      `t6`.`TAX`,
      `t6`.`TOTAL`,
      `t6`.`DISCOUNT`,
      `t6`.`CREATED_AT`,
      `t6`.`QUANTITY`,
      `t4`.`__r2__STATE`
    FROM (
      SELECT
        *
      FROM `main`.`ORDERS` AS `t0`
      WHERE
        `t0`.`USER_ID` IN (
          SELECT
            `t1`.`ID`
          FROM `main`.`PEOPLE` AS `t1`
          WHERE
            `t1`.`STATE` IN ('CA')
        )
    ) AS `t6`
    LEFT OUTER JOIN (
      SELECT
        `t1`.`ID` AS `__r2__key`,
        `t1`.`STATE` AS `__r2__STATE`
      FROM `main`.`PEOPLE` AS `t1`
      WHERE
        `t1`.`STATE` IN ('CA')
    ) AS `t4`
      ON `t6`.`USER_ID` = `t4`.`__r2__key`
  ) AS `t7`
  GROUP BY
    1
) AS `t8`
ORDER BY
  CASE WHEN `t8`.`STATE` IS NULL THEN 1 ELSE 0 END, `t8`.`STATE` ASC
LIMIT 10001
