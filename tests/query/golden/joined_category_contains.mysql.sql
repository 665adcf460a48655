SELECT
  *
FROM (
  SELECT
    `t6`.`__r3__CATEGORY` AS `CATEGORY`,
    COUNT(DISTINCT `t6`.`USER_ID`) AS `count_distinct`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t2`.`ID`,
        `t2`.`USER_ID`,
        `t2`.`PRODUCT_ID`,
        `t2`.`SUBTOTAL`,
        `t2`.`TAX`,
        `t2`.`TOTAL`,
        `t2`.`DISCOUNT`,
        `t2`.`CREATED_AT`,
        `t2`.`QUANTITY`,
        `t4`.`__r3__CATEGORY`,
        `t4`.`__r3__TITLE`
      FROM `main`.`ORDERS` AS `t2`
      LEFT OUTER JOIN (
        SELECT
          `t1`.`ID` AS `__r3__key`,
          `t1`.`CATEGORY` AS `__r3__CATEGORY`,
          `t1`.`TITLE` AS `__r3__TITLE`
        FROM `main`.`PRODUCTS` AS `t1`
      ) AS `t4`
        ON `t2`.`PRODUCT_ID` = `t4`.`__r3__key`
    ) AS `t5`
    WHERE
      LOCATE('steel', LOWER(`t5`.`__r3__TITLE`))
  ) AS `t6`
  GROUP BY
    1
) AS `t7`
ORDER BY
  CASE WHEN `t7`.`CATEGORY` IS NULL THEN 1 ELSE 0 END, `t7`.`CATEGORY` ASC
LIMIT 10001
